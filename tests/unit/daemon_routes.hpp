// The daemon's routing of (method, target) as one pure function, composed
// of its real parts: the URL space the wiring registers (app::
// register_endpoints), the operations endpoints' method rule, and the task
// endpoint's request parser. The router tests and the router fuzz target
// check it against PROTOCOL.md §2's table.
#pragma once

#include "redis_push/app/endpoints.hpp"
#include "redis_push/endpoints/operations_endpoints.hpp"
#include "redis_push/endpoints/task_request.hpp"
#include "redis_push/http/router.hpp"

#include <string_view>

namespace rpd::testing {

struct route {
    enum class kind {
        task_poll,
        task_watch,
        task_options,
        healthz,
        metrics,
        not_found,
        method_not_allowed,
        invalid_task_id,
        invalid_signature,
        invalid_mode,
    };
    kind type = kind::not_found;
    std::string_view id;
};

class daemon_routes {
public:
    explicit daemon_routes(const tasks::task_id_validator& validator,
                           const tasks::task_signer* signer = nullptr)
        : validator_(validator), signer_(signer) {
        app::register_endpoints(routes_, {health_, metrics_, task_, fallback_, nullptr});
    }

    route resolve(http::method m, std::string_view target) const {
        using kind = route::kind;
        const auto req = http::make_request(m, target, nullptr);
        const http::endpoint* e = routes_.resolve(req.path);
        if (e == &health_ || e == &metrics_) {
            if (!endpoints::read_only_method(m))
                return {kind::method_not_allowed, {}};
            return {e == &health_ ? kind::healthz : kind::metrics, {}};
        }
        if (e != &task_)
            return {kind::not_found, {}};
        const auto t = endpoints::parse_task_request(m, req.path, req.query, validator_, signer_);
        using tk = endpoints::task_request::kind;
        switch (t.type) {
        case tk::poll:
            return {kind::task_poll, t.id};
        case tk::watch:
            return {kind::task_watch, t.id};
        case tk::options:
            return {kind::task_options, {}};
        case tk::method_not_allowed:
            return {kind::method_not_allowed, {}};
        case tk::invalid_task_id:
            return {kind::invalid_task_id, t.id};
        case tk::invalid_signature:
            return {kind::invalid_signature, t.id};
        case tk::invalid_mode:
            return {kind::invalid_mode, t.id};
        }
        return {kind::not_found, {}};
    }

private:
    struct marker final : http::endpoint {
        void serve(http::exchange&) override {}
    };
    const tasks::task_id_validator& validator_;
    const tasks::task_signer* signer_;
    marker health_, metrics_, task_, fallback_;
    http::router routes_;
};

} // namespace rpd::testing
