#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/http/websocket.hpp"

#include <functional>
#include <string>

namespace rpd::http {

// One stream subscription of a WebSocket client (MODES.md 4): `subscribed`
// once established, each burst of messages as one `messages` frame, a
// `gap` frame before the messages it concerns; an end with an error is an
// error frame. `stream` and `id` are echoed as the client sent them (`id`
// as JSON text, empty: none).
class ws_stream_sink final : public feed::sink {
public:
    ws_stream_sink(ws_output& out, std::string stream, std::string id_json,
                   std::function<void()> on_end)
        : out_(out), stream_(std::move(stream)), id_json_(std::move(id_json)),
          on_end_(std::move(on_end)) {}

    void opened() override;
    void event(std::string_view type, std::string_view data, std::string_view id) override;
    void flush() override;
    void gap(std::string_view first) override;
    void ended(feed::end_reason reason, std::string_view value) override;

private:
    std::string frame_start(std::string_view type) const;

    ws_output& out_;
    std::string stream_;
    std::string id_json_;
    std::function<void()> on_end_; // the subscription is over: forget it (later, not inside)
    std::string pending_;          // a `messages` frame being filled
    bool opened_ = false;
};

// {"type":"error","error":"<text>"[,"id":<id>]}
std::string ws_error_frame(std::string_view text, std::string_view id_json);

} // namespace rpd::http
