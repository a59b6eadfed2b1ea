#pragma once

#include "redis_push/http/context.hpp"
#include "redis_push/http/endpoint.hpp"
#include "redis_push/http/websocket.hpp"

#include <string_view>

namespace rpd::endpoints {

// Whether `origin` (scheme://host[:port]) names the request's own `host`
// (the Host header's host[:port]), case-insensitively.
bool origin_is_host(std::string_view origin, std::string_view host);

// A ws.paths path: a WebSocket upgrade becomes a websocket_session whose
// handler the factory makes (a mode dispatcher; the wiring passes it).
// Anything else there is 426 Upgrade Required; an upgrade whose Origin is
// neither the request's own host nor allowed by http.cors_origins is 403 (no
// Origin, as from non-browser clients, is accepted).
class ws_endpoint final : public http::endpoint {
public:
    ws_endpoint(http::context& ctx, http::ws_handler_factory factory, http::ws_limits limits)
        : ctx_(ctx), factory_(std::move(factory)), limits_(limits) {}
    void serve(http::exchange& ex) override;

private:
    http::context& ctx_;
    http::ws_handler_factory factory_;
    http::ws_limits limits_;
};

} // namespace rpd::endpoints
