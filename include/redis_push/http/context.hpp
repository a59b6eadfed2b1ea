#pragma once

#include "redis_push/config/config.hpp"
#include "redis_push/http/cors.hpp"
#include "redis_push/http/request_metrics.hpp"
#include "redis_push/http/router.hpp"
#include "redis_push/http/session_list.hpp"

#include <chrono>

namespace rpd::http {

// The settings SIGHUP may change under running sessions (app/reload.cpp
// writes them; sessions read them at each use).
struct live_settings {
    cors_policy cors;
    std::chrono::seconds watch_keepalive{10};
    std::chrono::seconds sse_keepalive{15};
    std::chrono::milliseconds sse_retry{3000};
};

// What every session shares; owned by the server. The endpoints are
// registered into `routes` by the wiring (app/endpoints.cpp).
struct context {
    explicit context(const config::settings& s)
        : http(s.http), live{cors_policy(s.http.cors_origins), s.watch.keepalive, s.sse.keepalive,
                             s.sse.retry} {}

    const config::http_settings& http;
    live_settings live;
    router routes;
    request_metrics metrics;
    session_list sessions;
    bool shutting_down = false;
    // The largest request body read (a publish); larger: 413. The wiring
    // raises it to the modes' message limits.
    std::uint64_t max_body_bytes = 65536;
};

} // namespace rpd::http
