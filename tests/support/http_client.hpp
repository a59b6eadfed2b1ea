// A small blocking HTTP/1.x client on raw sockets, with deadlines everywhere.
// It parses responses incrementally so a test can see the head of a watch
// response (= watch established) before its body, watch keepalive newlines
// arrive, and detect a closed connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util.hpp"

namespace rpd::test {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_response {
    std::string version; // "HTTP/1.1"
    int status = 0;
    std::string reason;
    header_list headers;
    std::string body;             // decoded (chunking removed)
    bool chunked = false;         // Transfer-Encoding: chunked
    bool close_delimited = false; // body ended by connection close

    // Case-insensitive; first match.
    std::optional<std::string> header(std::string_view name) const;
    bool has_header(std::string_view name) const { return header(name).has_value(); }
    std::size_t header_count(std::string_view name) const;
};

bool iequals(std::string_view a, std::string_view b);

class http_connection {
public:
    explicit http_connection(std::uint16_t port,
                             std::chrono::milliseconds connect_timeout = 2000ms);
    // so_rcvbuf > 0: SO_RCVBUF set before connect (a small receive window, for
    // clients that do not read).
    http_connection(std::uint16_t port, std::chrono::milliseconds connect_timeout, int so_rcvbuf);
    ~http_connection();
    http_connection(const http_connection&) = delete;
    http_connection& operator=(const http_connection&) = delete;

    std::uint16_t port() const { return port_; }
    int fd() const { return fd_; }

    // Writes all bytes; returns false if the peer is gone (EPIPE/ECONNRESET).
    bool send(std::string_view bytes);
    // Builds and sends "METHOD target VERSION" with Host and the given headers.
    bool send_request(std::string_view method, std::string_view target,
                      const header_list& headers = {}, std::string_view version = "HTTP/1.1",
                      std::string_view body = {});

    // Reads one full response (head + body). head_request: the response to a HEAD
    // has no body whatever its headers say. nullopt on timeout or close before
    // the response was complete (see peer_closed()).
    std::optional<http_response> read_response(std::chrono::milliseconds timeout = 5000ms,
                                               bool head_request = false);

    // Incremental reading of one response.
    bool read_head(std::chrono::milliseconds timeout,
                   bool head_request = false); // true once head parsed
    bool head_received() const { return head_done_; }
    const http_response& current() const { return cur_; }
    // Reads whatever arrives until the body is complete or the timeout passed.
    // Returns body_complete().
    bool read_body(std::chrono::milliseconds timeout);
    // Waits until at least `n` body bytes decoded (or complete / timeout).
    bool read_body_at_least(std::size_t n, std::chrono::milliseconds timeout);
    bool body_complete() const { return body_done_; }
    const std::string& body_so_far() const { return cur_.body; }
    // Hands out the completed response and resets for the next one.
    http_response take_response();

    // True if the peer closed (EOF or reset) within the timeout. Bytes that
    // arrive meanwhile are kept in the buffer (see buffered()).
    bool wait_closed(std::chrono::milliseconds timeout);
    bool peer_closed() const { return eof_; }
    const std::string& buffered() const { return in_; }
    // Everything ever received on this connection (raw bytes).
    const std::string& raw_received() const { return raw_; }

    void close();
    // Shuts down the write side only (sends FIN).
    void shutdown_write();

private:
    enum class body_mode { none, length, chunked, until_close };
    enum class chunk_state { size, data, data_crlf, trailer };

    // One read with a deadline; false on timeout; sets eof_ on EOF/reset.
    bool fill(clock::time_point deadline);
    bool try_parse_head(bool head_request);
    void decode_body();

    std::uint16_t port_;
    int fd_ = -1;
    std::string in_;
    std::string raw_;
    bool eof_ = false;

    http_response cur_;
    bool head_done_ = false;
    bool body_done_ = false;
    body_mode mode_ = body_mode::none;
    std::size_t remaining_ = 0;
    chunk_state cstate_ = chunk_state::size;
};

// One-shot request on a fresh connection. Throws std::runtime_error when no
// complete response arrives within the timeout.
http_response http_request(std::uint16_t port, std::string_view method, std::string_view target,
                           const header_list& headers = {},
                           std::chrono::milliseconds timeout = 5000ms);
inline http_response http_get(std::uint16_t port, std::string_view target,
                              const header_list& headers = {},
                              std::chrono::milliseconds timeout = 5000ms) {
    return http_request(port, "GET", target, headers, timeout);
}

// A `GET /task/<id>?watch` in flight.
class watch_client {
public:
    watch_client(std::uint16_t port, std::string_view id, const header_list& headers = {},
                 std::string_view version = "HTTP/1.1", std::string_view query = "watch");

    // True once the response head arrived (the watch is established, or was
    // answered at once).
    bool wait_head(std::chrono::milliseconds timeout = 5000ms);
    // True once the head arrived and it is a 200 without a complete body yet
    // (an established, waiting watch).
    bool wait_established(std::chrono::milliseconds timeout = 5000ms);
    // True once the whole response arrived.
    bool finish(std::chrono::milliseconds timeout = 5000ms);

    const http_response& response() const { return conn_.current(); }
    int status() const { return conn_.current().status; }
    const std::string& raw_body() const { return conn_.body_so_far(); }
    std::string body() const { return strip_leading_newlines(conn_.body_so_far()); }
    std::size_t leading_newlines() const;
    http_connection& conn() { return conn_; }
    // Abandons the watch (closes the socket).
    void close() { conn_.close(); }

private:
    http_connection conn_;
};

} // namespace rpd::test
