#include "redis_push/http/ws_stream_sink.hpp"

#include <nlohmann/json.hpp>

namespace rpd::http {

namespace {
std::string json_quoted(std::string_view s) {
    return nlohmann::json(std::string(s))
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
} // namespace

std::string ws_error_frame(std::string_view text, std::string_view id_json) {
    std::string out = R"({"type":"error","error":)";
    out.append(json_quoted(text));
    if (!id_json.empty())
        out.append(",\"id\":").append(id_json);
    out.push_back('}');
    return out;
}

std::string ws_stream_sink::frame_start(std::string_view type) const {
    std::string out = R"({"type":")";
    out.append(type).append(R"(","stream":)").append(json_quoted(stream_));
    return out;
}

void ws_stream_sink::opened() {
    if (std::exchange(opened_, true))
        return;
    auto frame = frame_start("subscribed");
    if (!id_json_.empty())
        frame.append(",\"id\":").append(id_json_);
    frame.push_back('}');
    out_.send_text(frame);
}

void ws_stream_sink::event(std::string_view, std::string_view data, std::string_view) {
    if (pending_.empty())
        pending_ = frame_start("messages").append(R"(,"messages":[)");
    else
        pending_.push_back(',');
    pending_.append(data);
}

void ws_stream_sink::flush() {
    if (pending_.empty())
        return;
    pending_.append("]}");
    const auto frame = std::move(pending_);
    pending_.clear();
    out_.send_text(frame);
}

void ws_stream_sink::gap(std::string_view first) {
    flush();
    auto frame = frame_start("gap");
    frame.append(",\"first\":").append(json_quoted(first)).push_back('}');
    out_.send_text(frame);
}

void ws_stream_sink::ended(feed::end_reason reason, std::string_view) {
    flush();
    if (!feed::is_answer(reason))
        out_.send_text(ws_error_frame(feed::describe(reason).error_text, id_json_));
    if (on_end_)
        on_end_();
}

} // namespace rpd::http
