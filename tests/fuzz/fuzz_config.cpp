// libFuzzer target: config::parse, fed the input as the text of a config
// file.
//
// A refused config is a config_error; any other exception escaping
// parse() is a bug (it would end the daemon with std::terminate instead of
// the documented message and exit status 2), and so are crashes, sanitizer
// reports and leaks. A config that is accepted must hold values in the
// documented ranges, and what the daemon builds from it (the task id
// validator, which compiles task.id_pattern again) must not throw.

#include "redis_push/config/loader.hpp"
#include "redis_push/tasks/task_id.hpp"

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz_config: invariant violated: %s\n", what);
        std::abort();
    }
}

template <class Rep, class Period>
bool in(std::chrono::duration<Rep, Period> d, long long lo, long long hi) {
    return d.count() >= lo && d.count() <= hi;
}

void check_accepted(const rpd::config::settings& s) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(s.http.address, ec);
    check(!ec, "http.address accepted but not an address");
    check(s.http.port >= 1, "http.port out of range");
    check(s.http.max_connections >= 1 && s.http.max_connections <= 10000000,
          "http.max_connections out of range");
    check(in(s.http.request_timeout, 1, 3600), "http.request_timeout_seconds out of range");
    check(in(s.http.idle_timeout, 1, 86400), "http.idle_timeout_seconds out of range");
    check(s.http.max_header_bytes >= 1024 && s.http.max_header_bytes <= 1048576,
          "http.max_header_bytes out of range");
    check(!s.redis.host.empty(), "redis.host empty");
    check(s.redis.port >= 1, "redis.port out of range");
    check(s.redis.subscriber_connections >= 1 && s.redis.subscriber_connections <= 256,
          "redis.subscriber_connections out of range");
    check(in(s.redis.connect_timeout, 1, 600000), "redis.connect_timeout_ms out of range");
    check(s.task.max_id_length >= 1 && s.task.max_id_length <= 1024,
          "task.max_id_length out of range");
    check(in(s.watch.keepalive, 0, 3600), "watch.keepalive_seconds out of range");
    check(in(s.watch.timeout, 0, 604800), "watch.timeout_seconds out of range");
    check(in(s.sse.retry, 0, 3600000), "sse.retry_ms out of range");
    check(in(s.sse.keepalive, 0, 3600), "sse.keepalive_seconds out of range");
    // The daemon compiles the pattern again (with std::regex::optimize):
    // what the loader accepted must not throw there.
    try {
        // Compiling only: matching an id against an accepted pattern can
        // take exponential time ("(a*****|b)*c", see docs/fuzzing.md), a
        // known finding that would otherwise end every run in a timeout.
        const rpd::tasks::task_id_validator v(s.task.id_pattern, s.task.max_id_length);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz_config: accepted id_pattern throws in the validator: %s\n",
                     e.what());
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A copy of exactly the input's size, so ASan sees any read beyond it.
    const std::string text(reinterpret_cast<const char*>(data), size);
    rpd::config::settings s;
    try {
        s = rpd::config::parse(text);
    } catch (const rpd::config::config_error&) {
        return 0; // refused with a message: the expected outcome for most inputs
    } catch (const std::exception& e) {
        // Found "2E665" / {"http":{"port":1e400}} (json out_of_range 406),
        // fixed in c6719e6; regression test in fuzz_regressions_test.cpp.
        std::fprintf(stderr, "fuzz_config: parse() threw something else than config_error: %s\n",
                     e.what());
        std::abort();
    }
    check_accepted(s);
    return 0;
}
