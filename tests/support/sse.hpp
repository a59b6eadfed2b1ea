// Reading a text/event-stream response body as it arrives: a strict parser
// for the framing the daemon promises (MODES.md 3 and 6, "Tasks over SSE")
// and a client for `GET /task/<id>?watch` with `Accept: text/event-stream`.
//
// The parser is deliberately stricter than a browser's EventSource: it
// accepts exactly blocks of `name: value\n` lines ended by a blank line, and
// comment lines (`:` ...), all with LF line ends. Anything else (a CR, a
// stray blank line, a line without `: `) is reported as an error, so a test
// sees framing that an EventSource would silently reinterpret.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http_client.hpp"

namespace rpd::test {

struct sse_unit {
    enum class kind { block, comment } type = kind::block;
    // block: its `name: value` lines in order; comment: empty.
    std::vector<std::pair<std::string, std::string>> fields;
    std::string comment; // comment: the text after ':'
    std::string raw;     // the exact bytes of the unit, line ends included

    // The first value of field `name`, if any.
    std::optional<std::string> field(std::string_view name) const;
    std::size_t field_count(std::string_view name) const;
    // What an EventSource would hand to a listener: the data lines joined
    // with "\n".
    std::string data() const;
    // The event type (`event:` value), "" when the block has none.
    std::string event() const { return field("event").value_or(""); }
    bool is_event() const { return type == kind::block && field("event").has_value(); }
};

struct sse_parse {
    std::vector<sse_unit> units;
    std::string rest;  // an incomplete unit at the end (more may arrive)
    std::string error; // non-empty: the body is not the promised framing

    // Blocks with an `event:` field, in order.
    std::vector<sse_unit> events() const;
    std::size_t comment_count() const;
};

sse_parse parse_sse(std::string_view body);

// The event-stream framing of a task value: one `data: ` line per line of
// the value, CR LF and lone CR turned into line breaks like LF.
std::string sse_data_lines(std::string_view value);

// Printable form of a body for failure messages (\r, \n made visible).
std::string visible(std::string_view s);

// `GET /task/<id>?watch` asking for an event stream.
class sse_watch {
public:
    sse_watch(std::uint16_t port, std::string_view id, std::string accept = "text/event-stream",
              std::string_view version = "HTTP/1.1", const header_list& extra_headers = {});

    // True once the head arrived.
    bool wait_head(std::chrono::milliseconds timeout = 5000ms);
    // True once the head of a streaming response arrived: 200,
    // Content-Type text/event-stream, body not complete.
    bool wait_stream(std::chrono::milliseconds timeout = 5000ms);
    // Reads until pred holds on the body parsed so far, the body is complete,
    // or the timeout passed; returns pred's last value.
    bool read_until(const std::function<bool(const sse_parse&)>& pred,
                    std::chrono::milliseconds timeout);
    // Until at least n events (blocks with `event:`) arrived.
    bool wait_events(std::size_t n, std::chrono::milliseconds timeout = 5000ms);
    // Until at least n comment lines arrived.
    bool wait_comments(std::size_t n, std::chrono::milliseconds timeout);
    // Until the whole response arrived (last chunk, or close for HTTP/1.0).
    bool finish(std::chrono::milliseconds timeout = 5000ms);

    const http_response& response() const { return conn_.current(); }
    int status() const { return conn_.current().status; }
    const std::string& body() const { return conn_.body_so_far(); }
    sse_parse parsed() const { return parse_sse(conn_.body_so_far()); }
    std::vector<sse_unit> events() const { return parsed().events(); }
    http_connection& conn() { return conn_; }
    void close() { conn_.close(); }
    // Everything a failure message needs: status, framing, body.
    std::string describe() const;

private:
    http_connection conn_;
};

} // namespace rpd::test
