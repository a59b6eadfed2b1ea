// Unit tests of the hand-written HTTP response heads (spec sections 2, 5).

#include "redis_push/http/response.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using rpd::http::append_chunk;
using rpd::http::append_head;
using rpd::http::error_body;
using rpd::http::response_head;
using framing = rpd::http::response_head::framing;

std::string head_of(const response_head& h) {
    std::string out;
    append_head(out, h);
    return out;
}

TEST(ResponseHead, Json200WithContentLength) {
    response_head h;
    h.content_length = 15;
    EXPECT_EQ(head_of(h), "HTTP/1.1 200 OK\r\n"
                          "Content-Type: application/json\r\n"
                          "Cache-Control: no-store\r\n"
                          "Content-Length: 15\r\n"
                          "\r\n");
}

TEST(ResponseHead, ZeroContentLengthIsWritten) {
    response_head h;
    h.content_length = 0;
    EXPECT_EQ(head_of(h), "HTTP/1.1 200 OK\r\n"
                          "Content-Type: application/json\r\n"
                          "Cache-Control: no-store\r\n"
                          "Content-Length: 0\r\n"
                          "\r\n");
}

TEST(ResponseHead, LargeContentLength) {
    response_head h;
    h.content_length = 1234567890;
    EXPECT_NE(head_of(h).find("\r\nContent-Length: 1234567890\r\n"), std::string::npos);
}

TEST(ResponseHead, AppendsToWhatIsThere) {
    std::string out = "previous";
    response_head h;
    h.status = 404;
    h.content_length = 3;
    append_head(out, h);
    EXPECT_EQ(out, "previousHTTP/1.1 404 Not Found\r\n"
                   "Content-Type: application/json\r\n"
                   "Cache-Control: no-store\r\n"
                   "Content-Length: 3\r\n"
                   "\r\n");
}

TEST(ResponseHead, ChunkedWatchHead) {
    response_head h;
    h.body_framing = framing::chunked;
    h.watch = true;
    EXPECT_EQ(head_of(h), "HTTP/1.1 200 OK\r\n"
                          "Content-Type: application/json\r\n"
                          "Cache-Control: no-store\r\n"
                          "X-Accel-Buffering: no\r\n"
                          "Transfer-Encoding: chunked\r\n"
                          "\r\n");
}

TEST(ResponseHead, CloseDelimitedWatchHeadForHttp10) {
    response_head h;
    h.body_framing = framing::close_delimited;
    h.watch = true;
    h.http10 = true;
    h.keep_alive = false;
    EXPECT_EQ(head_of(h), "HTTP/1.1 200 OK\r\n"
                          "Content-Type: application/json\r\n"
                          "Cache-Control: no-store\r\n"
                          "X-Accel-Buffering: no\r\n"
                          "Connection: close\r\n"
                          "\r\n");
}

TEST(ResponseHead, WatchErrorWithContentLength) {
    response_head h;
    h.status = 502;
    h.watch = true;
    h.content_length = 62;
    EXPECT_EQ(head_of(h), "HTTP/1.1 502 Bad Gateway\r\n"
                          "Content-Type: application/json\r\n"
                          "Cache-Control: no-store\r\n"
                          "X-Accel-Buffering: no\r\n"
                          "Content-Length: 62\r\n"
                          "\r\n");
}

TEST(ResponseHead, ConnectionClose) {
    response_head h;
    h.status = 400;
    h.content_length = 10;
    h.keep_alive = false;
    EXPECT_EQ(head_of(h), "HTTP/1.1 400 Bad Request\r\n"
                          "Content-Type: application/json\r\n"
                          "Cache-Control: no-store\r\n"
                          "Content-Length: 10\r\n"
                          "Connection: close\r\n"
                          "\r\n");
}

TEST(ResponseHead, Http10KeepAlive) {
    response_head h;
    h.content_length = 2;
    h.http10 = true;
    EXPECT_EQ(head_of(h), "HTTP/1.1 200 OK\r\n"
                          "Content-Type: application/json\r\n"
                          "Cache-Control: no-store\r\n"
                          "Content-Length: 2\r\n"
                          "Connection: keep-alive\r\n"
                          "\r\n");
}

TEST(ResponseHead, Http10Close) {
    response_head h;
    h.content_length = 2;
    h.http10 = true;
    h.keep_alive = false;
    EXPECT_EQ(head_of(h), "HTTP/1.1 200 OK\r\n"
                          "Content-Type: application/json\r\n"
                          "Cache-Control: no-store\r\n"
                          "Content-Length: 2\r\n"
                          "Connection: close\r\n"
                          "\r\n");
}

TEST(ResponseHead, MethodNotAllowedWithAllow) {
    response_head h;
    h.status = 405;
    h.allow = true;
    h.content_length = 63;
    EXPECT_EQ(head_of(h), "HTTP/1.1 405 Method Not Allowed\r\n"
                          "Content-Type: application/json\r\n"
                          "Cache-Control: no-store\r\n"
                          "Allow: GET, HEAD, OPTIONS\r\n"
                          "Content-Length: 63\r\n"
                          "\r\n");
}

TEST(ResponseHead, CorsHeaders) {
    response_head h;
    h.status = 503;
    h.content_length = 55;
    h.cors_origin = "https://app.example";
    EXPECT_EQ(head_of(h), "HTTP/1.1 503 Service Unavailable\r\n"
                          "Content-Type: application/json\r\n"
                          "Cache-Control: no-store\r\n"
                          "Access-Control-Allow-Origin: https://app.example\r\n"
                          "Vary: Origin\r\n"
                          "Content-Length: 55\r\n"
                          "\r\n");
}

TEST(ResponseHead, CorsOnAChunkedWatch) {
    response_head h;
    h.body_framing = framing::chunked;
    h.watch = true;
    h.cors_origin = "http://localhost:3000";
    EXPECT_EQ(head_of(h), "HTTP/1.1 200 OK\r\n"
                          "Content-Type: application/json\r\n"
                          "Cache-Control: no-store\r\n"
                          "X-Accel-Buffering: no\r\n"
                          "Access-Control-Allow-Origin: http://localhost:3000\r\n"
                          "Vary: Origin\r\n"
                          "Transfer-Encoding: chunked\r\n"
                          "\r\n");
}

TEST(ResponseHead, PreflightWithCors) {
    response_head h;
    h.status = 204;
    h.allow = true;
    h.preflight = true;
    h.cors_origin = "https://app.example";
    EXPECT_EQ(head_of(h), "HTTP/1.1 204 No Content\r\n"
                          "Cache-Control: no-store\r\n"
                          "Allow: GET, HEAD, OPTIONS\r\n"
                          "Access-Control-Allow-Origin: https://app.example\r\n"
                          "Vary: Origin\r\n"
                          "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
                          "Access-Control-Max-Age: 86400\r\n"
                          "\r\n");
}

TEST(ResponseHead, PreflightEchoesRequestedHeaders) {
    response_head h;
    h.status = 204;
    h.allow = true;
    h.preflight = true;
    h.cors_origin = "https://app.example";
    h.cors_request_headers = "X-Requested-With, Content-Type";
    EXPECT_EQ(head_of(h), "HTTP/1.1 204 No Content\r\n"
                          "Cache-Control: no-store\r\n"
                          "Allow: GET, HEAD, OPTIONS\r\n"
                          "Access-Control-Allow-Origin: https://app.example\r\n"
                          "Vary: Origin\r\n"
                          "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
                          "Access-Control-Max-Age: 86400\r\n"
                          "Access-Control-Allow-Headers: X-Requested-With, Content-Type\r\n"
                          "\r\n");
}

TEST(ResponseHead, PreflightWithoutAMatchingOrigin) {
    response_head h;
    h.status = 204;
    h.allow = true;
    h.preflight = true;
    h.cors_request_headers = "X-Ignored"; // no origin: no CORS headers at all
    EXPECT_EQ(head_of(h), "HTTP/1.1 204 No Content\r\n"
                          "Cache-Control: no-store\r\n"
                          "Allow: GET, HEAD, OPTIONS\r\n"
                          "\r\n");
}

TEST(ResponseHead, NoContentHasNoContentTypeOrLengthEvenIfAsked) {
    response_head h;
    h.status = 204;
    h.content_length = 99;
    h.keep_alive = false;
    EXPECT_EQ(head_of(h), "HTTP/1.1 204 No Content\r\n"
                          "Cache-Control: no-store\r\n"
                          "Connection: close\r\n"
                          "\r\n");
}

TEST(ResponseHead, PrometheusContentType) {
    response_head h;
    h.content_type = "text/plain; version=0.0.4; charset=utf-8";
    h.content_length = 7;
    EXPECT_EQ(head_of(h), "HTTP/1.1 200 OK\r\n"
                          "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                          "Cache-Control: no-store\r\n"
                          "Content-Length: 7\r\n"
                          "\r\n");
}

TEST(ResponseHead, ReasonPhrases) {
    using rpd::http::reason_phrase;
    EXPECT_EQ(reason_phrase(200), "OK");
    EXPECT_EQ(reason_phrase(204), "No Content");
    EXPECT_EQ(reason_phrase(400), "Bad Request");
    EXPECT_EQ(reason_phrase(403), "Forbidden");
    EXPECT_EQ(reason_phrase(404), "Not Found");
    EXPECT_EQ(reason_phrase(405), "Method Not Allowed");
    EXPECT_EQ(reason_phrase(408), "Request Timeout");
    EXPECT_EQ(reason_phrase(413), "Payload Too Large");
    EXPECT_EQ(reason_phrase(414), "URI Too Long");
    EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
    EXPECT_EQ(reason_phrase(500), "Internal Server Error");
    EXPECT_EQ(reason_phrase(502), "Bad Gateway");
    EXPECT_EQ(reason_phrase(503), "Service Unavailable");
}

TEST(ResponseHead, StatusLineOfEveryStatus) {
    for (unsigned status : {200u, 400u, 403u, 404u, 405u, 413u, 414u, 431u, 502u, 503u}) {
        response_head h;
        h.status = status;
        const std::string expected = "HTTP/1.1 " + std::to_string(status) + " " +
                                     std::string(rpd::http::reason_phrase(status)) + "\r\n";
        EXPECT_EQ(head_of(h).substr(0, expected.size()), expected) << status;
    }
}

// ---- chunks and bodies ------------------------------------------------------------------

TEST(ResponseChunk, HexLength) {
    std::string out;
    append_chunk(out, "hello");
    EXPECT_EQ(out, "5\r\nhello\r\n");
    out.clear();
    append_chunk(out, std::string(26, 'x'));
    EXPECT_EQ(out, "1a\r\n" + std::string(26, 'x') + "\r\n");
    out.clear();
    append_chunk(out, std::string(4096, 'y'));
    EXPECT_EQ(out, "1000\r\n" + std::string(4096, 'y') + "\r\n");
}

TEST(ResponseChunk, EmptyDataWritesNothing) {
    std::string out = "head";
    append_chunk(out, "");
    EXPECT_EQ(out, "head");
}

TEST(ResponseChunk, Appends) {
    std::string out = "A";
    append_chunk(out, "{}");
    append_chunk(out, "\n");
    EXPECT_EQ(out, "A2\r\n{}\r\n1\r\n\n\r\n");
}

TEST(ResponseChunk, FixedPieces) {
    EXPECT_EQ(rpd::http::last_chunk, "0\r\n\r\n");
    EXPECT_EQ(rpd::http::keepalive_chunk, "1\r\n\n\r\n");
    EXPECT_EQ(rpd::http::keepalive_bare, "\n");
}

TEST(ResponseBody, ErrorBodies) {
    EXPECT_EQ(error_body("Not Found"), R"({"status":"error","error_message":"Not Found"})");
    EXPECT_EQ(error_body("Invalid task id"),
              R"({"status":"error","error_message":"Invalid task id"})");
    EXPECT_EQ(
        error_body("Killed due to another concurrent request for this task"),
        R"({"status":"error","error_message":"Killed due to another concurrent request for this task"})");
    EXPECT_EQ(error_body(""), R"({"status":"error","error_message":""})");
}

} // namespace
