#include "redis_push/http/ws_mailbox_sink.hpp"

#include "redis_push/util/json_value.hpp"

namespace rpd::http {

// In redis-ws-alerts' member order, which a client comparing text expects.
std::string ws_event_error(std::string_view text) {
    std::string frame = R"({"event":"error","error":)";
    util::append_json_string(frame, text);
    frame.push_back('}');
    return frame;
}

void ws_mailbox_sink::event(std::string_view, std::string_view data, std::string_view) {
    out_.send_item(data, std::move(pending_));
}

void ws_mailbox_sink::ended(feed::end_reason reason, std::string_view) {
    pending_.settle(false);
    if (reason == feed::end_reason::killed)
        return out_.send_text(ws_event_error("replaced"));
    if (!feed::is_answer(reason))
        out_.send_text(ws_event_error(feed::describe(reason).error_text));
}

} // namespace rpd::http
