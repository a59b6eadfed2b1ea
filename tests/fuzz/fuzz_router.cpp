// libFuzzer target: http::router::resolve and tasks::task_id_validator.
//
// Input: byte 0 picks the method (bits 0-1: GET, HEAD, OPTIONS, other) and
// the validator (bits 2-3, see below); the rest is the request target, as
// beast hands it to the session (the raw bytes after the method).
//
// Besides crashes and sanitizer reports, it checks:
//  - the hand-written check of the default id pattern agrees with
//    std::regex running the same pattern, on every input as an id;
//  - the route's id is a view into the target, and what the router lets
//    through as a task poll/watch is a valid id without '/';
//  - the route kind is consistent with the path and method (405 only for
//    other methods on /task/..., and GET/HEAD-less methods on the
//    operations endpoints, task_watch never for HEAD, ...).

#include "../unit/daemon_routes.hpp"
#include "redis_push/tasks/task_id.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using rpd::http::method;
using rpd::testing::route;
using router = rpd::testing::daemon_routes;
using rpd::tasks::task_id_validator;
using kind = route::kind;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz_router: invariant violated: %s\n", what);
        std::abort();
    }
}

struct validators {
    // The default pattern: the hand-written fast path.
    task_id_validator fast{std::string(task_id_validator::default_pattern), 32};
    // The same language through std::regex (a different spelling of the
    // pattern, so the fast path is not taken).
    task_id_validator slow{"^(?:[A-Za-z0-9_])+$", 32};
    // Custom patterns as an operator might configure them.
    task_id_validator uuid{"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", 64};
    task_id_validator dotted{"^[a-z]+(\\.[a-z0-9]+)*$", 200};
};

const validators& get_validators() {
    static const validators v;
    return v;
}

bool within(std::string_view inner, std::string_view outer) {
    if (inner.empty())
        return true;
    return inner.data() >= outer.data() &&
           inner.data() + inner.size() <= outer.data() + outer.size();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1)
        return 0;
    const auto& v = get_validators();
    const std::uint8_t control = data[0];
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

    // Differential: fast path versus std::regex on the whole rest as an id.
    check(v.fast.valid(rest) == v.slow.valid(rest), "default pattern: fast path != std::regex");

    static constexpr method methods[] = {method::get, method::head, method::options, method::other};
    const method m = methods[control & 3];
    const task_id_validator* chosen[] = {&v.fast, &v.slow, &v.uuid, &v.dotted};
    const task_id_validator& validator = *chosen[(control >> 2) & 3];
    const router r(validator);

    // A copy the size of the input, so ASan sees reads beyond the target.
    const std::string target(rest);
    const route got = r.resolve(m, target);

    check(within(got.id, target), "route id is not a view into the target");
    const std::string_view path = std::string_view(target).substr(0, target.find('?'));
    const bool task_path = path.starts_with("/task/");
    const bool ops_path = path == "/healthz" || path == "/metrics";
    const bool get_or_head = m == method::get || m == method::head;

    switch (got.type) {
    case kind::task_poll:
    case kind::task_watch:
        check(task_path, "task route outside /task/");
        check(get_or_head, "task route for a method other than GET/HEAD");
        check(!got.id.empty() && got.id.find('/') == std::string_view::npos,
              "task route with an empty id or an id containing '/'");
        check(validator.valid(got.id), "task route with an id the validator refuses");
        check(got.type != kind::task_watch || m == method::get, "watch for a HEAD request");
        break;
    case kind::task_options:
        check(task_path && m == method::options, "task_options outside OPTIONS /task/...");
        break;
    case kind::healthz:
        check(path == "/healthz" && get_or_head, "healthz route mismatch");
        break;
    case kind::metrics:
        check(path == "/metrics" && get_or_head, "metrics route mismatch");
        break;
    case kind::not_found:
        check(!task_path && !ops_path, "not_found for a known path");
        break;
    case kind::method_not_allowed:
        check(ops_path ? !get_or_head : (task_path && m == method::other),
              "method_not_allowed mismatch");
        break;
    case kind::invalid_task_id:
        check(task_path && get_or_head, "invalid_task_id outside GET/HEAD /task/...");
        check(got.id.find('/') != std::string_view::npos || !validator.valid(got.id),
              "invalid_task_id for an id the validator accepts");
        break;
    case kind::invalid_mode:
        check(task_path && get_or_head && validator.valid(got.id),
              "invalid_mode without a valid task id");
        break;
    default: // kinds a router without a task signer never returns
        check(false, "unexpected route kind");
    }
    return 0;
}
