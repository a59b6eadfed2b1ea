#pragma once

#include "redis_push/feed/end_reason.hpp"
#include "redis_push/feed/receipt.hpp"
#include "redis_push/http/request_metrics.hpp"

#include <chrono>
#include <string_view>

namespace rpd::http {

struct live_settings;

// A keepalive's bytes, in static storage (a tick allocates nothing): as a
// chunk for HTTP/1.1, bare for a close-delimited HTTP/1.0 body.
struct keepalive_bytes {
    std::string_view chunked;
    std::string_view bare;
};

// What a transport's sink writes through: the session holding the request.
// Before begin_stream() an answer is a complete response with its own
// status; after it the head (200) is out and only body bytes follow.
class held_response {
public:
    virtual void respond(unsigned status, std::string_view body, request_result result,
                         std::string_view content_type = "application/json") = 0;
    // `extra_headers`: whole "Name: value\r\n" lines of the mode's own.
    virtual void respond_with(unsigned status, std::string_view body, request_result result,
                              std::string_view content_type, std::string_view extra_headers) = 0;
    virtual void respond_error(unsigned status, std::string_view text, request_result result) = 0;

    // Commits to a streamed 200 (chunked, or close-delimited for HTTP/1.0):
    // the head and `first_bytes` go out now, then `keepalive` every
    // `*every` while the line is quiet (0: none; read at each tick, so a
    // reload applies to running streams).
    virtual void begin_stream(std::string_view content_type, std::string_view first_bytes,
                              const std::chrono::seconds* every, keepalive_bytes keepalive) = 0;
    virtual bool streaming() const = 0;
    // Body bytes: one chunk.
    virtual void stream(std::string_view bytes) = 0;
    // `last_bytes` and the end of the body, in one write; the connection
    // goes on with its next request.
    virtual void end_stream(std::string_view last_bytes, request_result result) = 0;

    // The answer about to be written carries an item taken out of Redis:
    // `written` is settled true once the whole response is out, false if
    // the connection ends first.
    virtual void keep_until_written(feed::receipt written) = 0;

    virtual request_metrics& metrics() = 0;
    virtual const live_settings& live() const = 0;

protected:
    ~held_response() = default;
};

// A feed that ended before it opened answers like any request: the value
// with 200, or the reason's error with its status.
void answer_unopened(held_response& out, feed::end_reason reason, std::string_view value);

} // namespace rpd::http
