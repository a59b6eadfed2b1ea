#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/http/byte_stream.hpp"
#include "redis_push/http/connection_slot.hpp"
#include "redis_push/http/request.hpp"
#include "redis_push/http/request_metrics.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <string_view>

namespace rpd::http {

// How a held request's feed is framed on the wire; each has its sink.
enum class transport : std::uint8_t {
    long_poll, // the classic watch: a 200 head, newline keepalives, one final body
    sse,       // text/event-stream: retry, events, comment keepalives
    batch,     // a stream long-poll: the first burst of events as one JSON array
    item,      // a queue or mailbox long-poll: one complete answer, the item or an error
    page,      // a history page: one JSON answer, the gap header when there was one
};

// A connection an endpoint took over (a WebSocket upgrade, as Beast's
// advanced server hands a socket to its websocket session): the bytes,
// what was already read past the request's head, the head itself, and the
// connection's place in the connection count.
struct taken_connection {
    byte_stream stream;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> head;
    connection_slot slot;
};

// What an endpoint answers through: the HTTP session serving the request.
// An endpoint either answers at once (respond*), holds the request open on
// a feed, whose sink then answers, or takes the connection over.
class exchange {
public:
    virtual const request& req() const = 0;

    // The `mode` label the request is counted under (default: poll, or head
    // for HEAD).
    virtual void count_as(request_mode m) = 0;
    // Every status of this request's answers becomes 200 (http.always_200:
    // the original's clients).
    virtual void answer_with_200() = 0;

    // The answer may wait (a long-poll): it carries X-Accel-Buffering: no,
    // so a proxy in front does not hold it back.
    virtual void may_wait() = 0;

    virtual void respond(unsigned status, std::string_view body, request_result result,
                         std::string_view content_type = "application/json") = 0;
    // `extra_headers`: whole "Name: value\r\n" lines of the mode's own.
    virtual void respond_with(unsigned status, std::string_view body, request_result result,
                              std::string_view content_type, std::string_view extra_headers) = 0;
    // {"status":"error","error_message":"<text>"}; 405 carries Allow.
    virtual void respond_error(unsigned status, std::string_view text, request_result result) = 0;
    // A CORS preflight: 204 with Allow and, for an allowed origin, the
    // Access-Control-* answers; `post_allowed` adds POST to the methods
    // (a resource that takes publishes or acks).
    virtual void respond_preflight(bool post_allowed = false) = 0;

    // Holds the request open: `start` gets the transport's sink and returns
    // the handle of the feed it started on it. The session owns both; a
    // client that leaves cancels the feed.
    virtual void hold(transport t, const std::function<feed::handle(feed::sink&)>& start) = 0;

    // Hands the connection to `adopt` and ends the HTTP session without
    // closing it: from here the adopter owns the connection, and the
    // session's shutdown no longer reaches it (the adopter answers to
    // shutdown itself). Counted as this request's `result`.
    virtual void take_over(request_result result,
                           const std::function<void(taken_connection&&)>& adopt) = 0;

protected:
    ~exchange() = default;
};

// One kind of resource (tasks, health, metrics, static files; later
// queues, mailboxes, streams): the router picks it by path.
class endpoint {
public:
    virtual ~endpoint() = default;
    virtual void serve(exchange& ex) = 0;
};

} // namespace rpd::http
