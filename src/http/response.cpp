#include "redis_push/http/response.hpp"

#include <charconv>

namespace rpd::http {

namespace {
void append_number(std::string& out, std::size_t n, int base = 10) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n, base);
    out.append(digits, end);
}
} // namespace

std::string_view reason_phrase(unsigned status) {
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 426:
        return "Upgrade Required";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Unknown";
    }
}

void append_head(std::string& out, const response_head& head) {
    out.append("HTTP/1.1 ");
    append_number(out, head.status);
    out.push_back(' ');
    out.append(reason_phrase(head.status));
    out.append("\r\n");
    if (head.status != 204) {
        out.append("Content-Type: ").append(head.content_type).append("\r\n");
    }
    out.append("Cache-Control: no-store\r\n");
    if (head.watch)
        out.append("X-Accel-Buffering: no\r\n");
    const std::string_view methods =
        head.allow_post ? "GET, HEAD, POST, OPTIONS" : "GET, HEAD, OPTIONS";
    if (head.allow)
        out.append("Allow: ").append(methods).append("\r\n");
    if (head.upgrade_websocket)
        out.append("Upgrade: websocket\r\n");
    out.append(head.extra_headers);
    if (!head.cors_origin.empty()) {
        out.append("Access-Control-Allow-Origin: ").append(head.cors_origin).append("\r\n");
        out.append("Vary: Origin\r\n");
        if (head.preflight) {
            out.append("Access-Control-Allow-Methods: ").append(methods).append("\r\n");
            out.append("Access-Control-Max-Age: 86400\r\n");
            if (!head.cors_request_headers.empty())
                out.append("Access-Control-Allow-Headers: ")
                    .append(head.cors_request_headers)
                    .append("\r\n");
        }
    }
    switch (head.body_framing) {
    case response_head::framing::content_length:
        if (head.status != 204) {
            out.append("Content-Length: ");
            append_number(out, head.content_length);
            out.append("\r\n");
        }
        break;
    case response_head::framing::chunked:
        out.append("Transfer-Encoding: chunked\r\n");
        break;
    case response_head::framing::close_delimited:
        break;
    }
    if (!head.keep_alive)
        out.append("Connection: close\r\n");
    else if (head.http10)
        out.append("Connection: keep-alive\r\n");
    out.append("\r\n");
}

void append_chunk(std::string& out, std::string_view data) {
    if (data.empty())
        return; // an empty chunk would end the body
    append_number(out, data.size(), 16);
    out.append("\r\n").append(data).append("\r\n");
}

std::string error_body(std::string_view text) {
    std::string body;
    body.reserve(40 + text.size());
    body.append(R"({"status":"error","error_message":")").append(text).append(R"("})");
    return body;
}

} // namespace rpd::http
