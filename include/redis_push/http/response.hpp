#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rpd::http {

// Responses are written by hand into one buffer: a handful of fixed
// headers, no per-header allocation, one write per response.
struct response_head {
    enum class framing { content_length, chunked, close_delimited };

    unsigned status = 200;
    framing body_framing = framing::content_length;
    std::size_t content_length = 0;
    bool keep_alive = true;
    bool http10 = false;
    bool watch = false;             // X-Accel-Buffering: no
    bool allow = false;             // Allow: GET, HEAD, OPTIONS (405, OPTIONS)
    bool allow_post = false;        // ... with POST (a preflight where publishing is on)
    bool upgrade_websocket = false; // Upgrade: websocket (426)
    bool preflight = false;         // Access-Control-Allow-Methods/-Max-Age(/-Headers)
    std::string_view content_type = "application/json";
    std::string_view cors_origin;          // empty: no CORS headers
    std::string_view cors_request_headers; // echoed on a preflight
    std::string_view extra_headers;        // whole "Name: value\r\n" lines, as they are
};

void append_head(std::string& out, const response_head& head);
void append_chunk(std::string& out, std::string_view data);

inline constexpr std::string_view last_chunk = "0\r\n\r\n";
// A keepalive newline, as a chunk or bare for HTTP/1.0.
inline constexpr std::string_view keepalive_chunk = "1\r\n\n\r\n";
inline constexpr std::string_view keepalive_bare = "\n";

// {"status":"error","error_message":"<text>"}; texts are plain ASCII.
std::string error_body(std::string_view text);

std::string_view reason_phrase(unsigned status);

} // namespace rpd::http
