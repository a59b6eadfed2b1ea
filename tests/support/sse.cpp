#include "sse.hpp"

#include <algorithm>
#include <stdexcept>

namespace rpd::test {

std::optional<std::string> sse_unit::field(std::string_view name) const {
    for (auto& [k, v] : fields)
        if (k == name)
            return v;
    return std::nullopt;
}

std::size_t sse_unit::field_count(std::string_view name) const {
    return static_cast<std::size_t>(
        std::count_if(fields.begin(), fields.end(), [&](auto& kv) { return kv.first == name; }));
}

std::string sse_unit::data() const {
    std::string out;
    bool first = true;
    for (auto& [k, v] : fields) {
        if (k != "data")
            continue;
        if (!first)
            out += '\n';
        out += v;
        first = false;
    }
    return out;
}

std::vector<sse_unit> sse_parse::events() const {
    std::vector<sse_unit> out;
    for (auto& u : units)
        if (u.is_event())
            out.push_back(u);
    return out;
}

std::size_t sse_parse::comment_count() const {
    return static_cast<std::size_t>(std::count_if(
        units.begin(), units.end(), [](auto& u) { return u.type == sse_unit::kind::comment; }));
}

sse_parse parse_sse(std::string_view body) {
    sse_parse p;
    sse_unit block;
    std::size_t block_start = 0;
    std::size_t pos = 0;
    const auto fail = [&](std::string why, std::size_t at) {
        p.error = why + " at byte " + std::to_string(at) + ": `" +
                  visible(body.substr(at, std::min<std::size_t>(80, body.size() - at))) + "`";
    };
    while (pos < body.size()) {
        const auto nl = body.find('\n', pos);
        if (nl == std::string_view::npos)
            break; // an incomplete line: wait for more
        const std::string_view line = body.substr(pos, nl - pos);
        if (line.find('\r') != std::string_view::npos) {
            // A CR is a line end to an EventSource: the value's own CR LF and
            // CR must have become separate data lines.
            fail("CR in the stream", pos);
            return p;
        }
        if (line.empty()) {
            if (block.fields.empty()) {
                // To an EventSource a lone blank line is harmless, but it is
                // no part of the promised framing (e.g. a watch's "\n"
                // keepalive leaking into an event stream).
                fail("blank line outside an event block", pos);
                return p;
            }
            block.raw = std::string(body.substr(block_start, nl + 1 - block_start));
            p.units.push_back(std::move(block));
            block = sse_unit{};
        } else if (line.front() == ':') {
            if (!block.fields.empty()) {
                fail("comment inside an event block", pos);
                return p;
            }
            sse_unit c;
            c.type = sse_unit::kind::comment;
            c.comment = std::string(line.substr(1));
            c.raw = std::string(body.substr(pos, nl + 1 - pos));
            p.units.push_back(std::move(c));
        } else {
            const auto colon = line.find(':');
            if (colon == std::string_view::npos) {
                fail("a line without a field name and ':'", pos);
                return p;
            }
            std::string name(line.substr(0, colon));
            if (name != "retry" && name != "event" && name != "data" && name != "id") {
                fail("unknown field `" + name + "`", pos);
                return p;
            }
            std::string_view value = line.substr(colon + 1);
            if (!value.empty() && value.front() == ' ') // as an EventSource reads it
                value.remove_prefix(1);
            if (block.fields.empty())
                block_start = pos;
            block.fields.emplace_back(std::move(name), std::string(value));
        }
        pos = nl + 1;
    }
    p.rest = std::string(body.substr(block.fields.empty() ? pos : block_start));
    return p;
}

std::string sse_data_lines(std::string_view value) {
    std::string out = "data: ";
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < value.size() && value[i + 1] == '\n')
                ++i;
            out += "\ndata: ";
        } else {
            out += c;
        }
    }
    out += '\n';
    return out;
}

std::string visible(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\r')
            out += "\\r";
        else if (c == '\n')
            out += "\\n\n";
        else
            out += c;
    }
    return out;
}

// ---------------------------------------------------------------- sse_watch

sse_watch::sse_watch(std::uint16_t port, std::string_view id, std::string accept,
                     std::string_view version, const header_list& extra_headers)
    : conn_(port) {
    header_list h;
    if (version == "HTTP/1.0")
        h.emplace_back("Host", "127.0.0.1");
    if (!accept.empty())
        h.emplace_back("Accept", std::move(accept));
    h.insert(h.end(), extra_headers.begin(), extra_headers.end());
    if (!conn_.send_request("GET", "/task/" + std::string(id) + "?watch", h, version))
        throw std::runtime_error("could not send the event-stream watch request");
}

bool sse_watch::wait_head(std::chrono::milliseconds timeout) {
    return conn_.read_head(timeout);
}

bool sse_watch::wait_stream(std::chrono::milliseconds timeout) {
    if (!conn_.read_head(timeout))
        return false;
    const auto& r = conn_.current();
    const auto ct = r.header("Content-Type").value_or("");
    const bool event_stream =
        ct.rfind("text/event-stream", 0) == 0 && (ct.size() == 17 || ct[17] == ';');
    return r.status == 200 && event_stream && !conn_.body_complete();
}

bool sse_watch::read_until(const std::function<bool(const sse_parse&)>& pred,
                           std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    if (!conn_.read_head(timeout))
        return false;
    while (true) {
        if (pred(parsed()))
            return true;
        if (conn_.body_complete() || conn_.peer_closed())
            return false;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left <= 0ms)
            return pred(parsed());
        // Returns as soon as one more byte is decoded (or at the deadline).
        conn_.read_body_at_least(conn_.body_so_far().size() + 1, left);
    }
}

bool sse_watch::wait_events(std::size_t n, std::chrono::milliseconds timeout) {
    return read_until([n](const sse_parse& p) { return p.events().size() >= n; }, timeout);
}

bool sse_watch::wait_comments(std::size_t n, std::chrono::milliseconds timeout) {
    return read_until([n](const sse_parse& p) { return p.comment_count() >= n; }, timeout);
}

bool sse_watch::finish(std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    if (!conn_.read_head(timeout))
        return false;
    const auto left = std::max(
        0ms, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
    return conn_.read_body(left);
}

std::string sse_watch::describe() const {
    const auto& r = conn_.current();
    std::string s = "status " + std::to_string(r.status) + ", Content-Type `" +
                    r.header("Content-Type").value_or("<absent>") + "`" +
                    (conn_.body_complete() ? ", body complete" : ", body open") +
                    (conn_.peer_closed() ? ", closed" : "");
    const auto p = parsed();
    if (!p.error.empty())
        s += ", framing error: " + p.error;
    s += ", body:\n" + visible(tail(conn_.body_so_far(), 600));
    return s;
}

} // namespace rpd::test
