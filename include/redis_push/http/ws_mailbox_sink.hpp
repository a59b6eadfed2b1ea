#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/http/websocket.hpp"

namespace rpd::http {

// An identified mailbox on a WebSocket (MODES.md 2, 4): each message as
// one text frame holding the stored string verbatim, its receipt settled
// by that frame's write. Replaced by a newer socket (`killed`):
// {"event":"error","error":"replaced"}; other ends say their error the
// same redis-ws-alerts way. The socket stays open either way.
class ws_mailbox_sink final : public feed::sink {
public:
    explicit ws_mailbox_sink(ws_output& out) : out_(out) {}

    void opened() override {}
    void hand_over(feed::receipt r) override { pending_ = std::move(r); }
    void event(std::string_view type, std::string_view data, std::string_view id) override;
    void ended(feed::end_reason reason, std::string_view value) override;

private:
    ws_output& out_;
    feed::receipt pending_;
};

// {"event":"error","error":"<text>"}: the identify protocol's error frame.
std::string ws_event_error(std::string_view text);

} // namespace rpd::http
