#include "redis_push/http/sse_sink.hpp"

#include "redis_push/http/context.hpp"
#include "redis_push/http/response.hpp"

#include <utility>

namespace rpd::http {

namespace {
// A comment line: EventSource ignores it, proxies see traffic.
constexpr std::string_view keepalive_comment_chunk = "2\r\n:\n\r\n";
constexpr std::string_view keepalive_comment = ":\n";
} // namespace

void append_sse_event(std::string& out, std::string_view type, std::string_view data,
                      std::string_view id) {
    if (!id.empty())
        out.append("id: ").append(id).push_back('\n');
    out.append("event: ").append(type).push_back('\n');
    for (;;) {
        const auto end = data.find_first_of("\r\n");
        out.append("data: ").append(data.substr(0, end)).push_back('\n');
        if (end == std::string_view::npos)
            break;
        const bool crlf = data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n';
        data.remove_prefix(end + (crlf ? 2 : 1));
    }
    out.push_back('\n');
}

sse_sink::~sse_sink() {
    leave_gauge();
}

void sse_sink::leave_gauge() {
    if (std::exchange(counted_, false))
        --out_.metrics().sse_connections;
}

void sse_sink::opened() {
    if (out_.streaming())
        return;
    std::string first = "retry: " + std::to_string(out_.live().sse_retry.count()) + "\n\n";
    out_.begin_stream("text/event-stream", first, &out_.live().sse_keepalive,
                      {keepalive_comment_chunk, keepalive_comment});
    ++out_.metrics().sse_connections;
    counted_ = true;
}

void sse_sink::event(std::string_view type, std::string_view data, std::string_view id) {
    if (!out_.streaming())
        return;
    std::string bytes;
    bytes.reserve(type.size() + data.size() + id.size() + 32);
    append_sse_event(bytes, type, data, id);
    out_.stream(bytes);
}

// No `id:`: the client's Last-Event-ID must stay before the gap, so a
// reconnect does not skip the first message still there.
void sse_sink::gap(std::string_view first) {
    if (!out_.streaming())
        return;
    std::string data = "{\"first\":\"";
    data.append(first).append("\"}");
    event("gap", data, {});
}

void sse_sink::ended(feed::end_reason reason, std::string_view value) {
    if (!out_.streaming())
        return answer_unopened(out_, reason, value);
    std::string last;
    if (!feed::is_answer(reason))
        append_sse_event(last, "error", error_body(feed::describe(reason).error_text));
    else if (!value.empty()) // a feed whose end carries the last state
        append_sse_event(last, "done", value);
    leave_gauge();
    out_.end_stream(last, result_of(reason));
}

} // namespace rpd::http
