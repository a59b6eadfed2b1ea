#include "http_client.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace rpd::test {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::optional<std::string> http_response::header(std::string_view name) const {
    for (auto& [k, v] : headers)
        if (iequals(k, name))
            return v;
    return std::nullopt;
}

std::size_t http_response::header_count(std::string_view name) const {
    return static_cast<std::size_t>(std::count_if(
        headers.begin(), headers.end(), [&](auto& kv) { return iequals(kv.first, name); }));
}

static std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos)
        return {};
    auto e = s.find_last_not_of(" \t");
    return std::string(s.substr(b, e - b + 1));
}

static std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& c : r)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return r;
}

http_connection::http_connection(std::uint16_t port, std::chrono::milliseconds connect_timeout)
    : http_connection(port, connect_timeout, 0) {}

http_connection::http_connection(std::uint16_t port, std::chrono::milliseconds connect_timeout,
                                 int so_rcvbuf)
    : port_(port) {
    auto deadline = clock::now() + connect_timeout;
    while (true) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0)
            throw std::runtime_error(std::string("socket(): ") + std::strerror(errno));
        if (so_rcvbuf > 0)
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &so_rcvbuf, sizeof so_rcvbuf);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
            break;
        int err = errno;
        ::close(fd_);
        fd_ = -1;
        if (clock::now() >= deadline)
            throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " +
                                     std::strerror(err));
        ::usleep(10000);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

http_connection::~http_connection() {
    close();
}

void http_connection::close() {
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
}

void http_connection::shutdown_write() {
    if (fd_ >= 0)
        ::shutdown(fd_, SHUT_WR);
}

bool http_connection::send(std::string_view bytes) {
    if (fd_ < 0)
        return false;
    auto deadline = clock::now() + 5s;
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now())
                    .count();
            if (left <= 0)
                return false;
            pollfd p{fd_, POLLOUT, 0};
            ::poll(&p, 1, static_cast<int>(left));
            continue;
        }
        return false;
    }
    return true;
}

bool http_connection::send_request(std::string_view method, std::string_view target,
                                   const header_list& headers, std::string_view version,
                                   std::string_view body) {
    std::string req;
    req.append(method).append(" ").append(target).append(" ").append(version).append("\r\n");
    bool has_host = false;
    for (auto& [k, v] : headers)
        if (iequals(k, "Host"))
            has_host = true;
    if (!has_host)
        req.append("Host: 127.0.0.1:").append(std::to_string(port_)).append("\r\n");
    for (auto& [k, v] : headers)
        req.append(k).append(": ").append(v).append("\r\n");
    if (!body.empty())
        req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    req.append("\r\n");
    req.append(body);
    return send(req);
}

bool http_connection::fill(clock::time_point deadline) {
    if (fd_ < 0 || eof_)
        return false;
    while (true) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
        if (left < 0)
            left = 0;
        pollfd p{fd_, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false; // timeout
        char buf[65536];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) {
            in_.append(buf, static_cast<std::size_t>(n));
            raw_.append(buf, static_cast<std::size_t>(n));
            return true;
        }
        if (n == 0) {
            eof_ = true;
            return true;
        }
        if (errno == EINTR || errno == EAGAIN)
            continue;
        eof_ = true; // reset or other error: the connection is gone
        return true;
    }
}

bool http_connection::try_parse_head(bool head_request) {
    while (true) {
        auto end = in_.find("\r\n\r\n");
        if (end == std::string::npos)
            return false;
        std::string_view head(in_.data(), end);
        http_response r;
        auto line_end = head.find("\r\n");
        std::string_view status_line = head.substr(0, line_end);
        auto sp1 = status_line.find(' ');
        if (sp1 == std::string_view::npos)
            throw std::runtime_error("bad status line: " + std::string(status_line));
        r.version = std::string(status_line.substr(0, sp1));
        auto rest = status_line.substr(sp1 + 1);
        auto sp2 = rest.find(' ');
        r.status = std::stoi(std::string(rest.substr(0, sp2)));
        if (sp2 != std::string_view::npos)
            r.reason = std::string(rest.substr(sp2 + 1));
        std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
        while (pos < head.size()) {
            auto e = head.find("\r\n", pos);
            if (e == std::string_view::npos)
                e = head.size();
            auto line = head.substr(pos, e - pos);
            auto colon = line.find(':');
            if (colon != std::string_view::npos)
                r.headers.emplace_back(std::string(line.substr(0, colon)),
                                       trim(line.substr(colon + 1)));
            pos = e + 2;
        }
        in_.erase(0, end + 4);
        if (r.status >= 100 && r.status < 200)
            continue; // interim response: skip
        cur_ = std::move(r);
        head_done_ = true;
        body_done_ = false;
        auto te = cur_.header("Transfer-Encoding");
        auto cl = cur_.header("Content-Length");
        if (head_request || cur_.status == 204 || cur_.status == 304) {
            mode_ = body_mode::none;
            body_done_ = true;
        } else if (te && lower(*te).find("chunked") != std::string::npos) {
            mode_ = body_mode::chunked;
            cur_.chunked = true;
            cstate_ = chunk_state::size;
        } else if (cl) {
            mode_ = body_mode::length;
            remaining_ = static_cast<std::size_t>(std::stoull(*cl));
            if (remaining_ == 0)
                body_done_ = true;
        } else {
            mode_ = body_mode::until_close;
            cur_.close_delimited = true;
        }
        return true;
    }
}

void http_connection::decode_body() {
    if (!head_done_ || body_done_)
        return;
    switch (mode_) {
    case body_mode::none:
        body_done_ = true;
        return;
    case body_mode::length: {
        auto take = std::min(remaining_, in_.size());
        cur_.body.append(in_, 0, take);
        in_.erase(0, take);
        remaining_ -= take;
        if (remaining_ == 0)
            body_done_ = true;
        return;
    }
    case body_mode::until_close:
        cur_.body.append(in_);
        in_.clear();
        if (eof_)
            body_done_ = true;
        return;
    case body_mode::chunked:
        while (!body_done_) {
            if (cstate_ == chunk_state::size) {
                auto e = in_.find("\r\n");
                if (e == std::string::npos)
                    return;
                std::string line = in_.substr(0, e);
                auto semi = line.find(';');
                if (semi != std::string::npos)
                    line.resize(semi);
                line = trim(line);
                if (line.empty())
                    throw std::runtime_error("bad chunk size line");
                remaining_ = static_cast<std::size_t>(std::stoull(line, nullptr, 16));
                in_.erase(0, e + 2);
                cstate_ = remaining_ == 0 ? chunk_state::trailer : chunk_state::data;
            } else if (cstate_ == chunk_state::data) {
                if (in_.empty())
                    return;
                auto take = std::min(remaining_, in_.size());
                cur_.body.append(in_, 0, take);
                in_.erase(0, take);
                remaining_ -= take;
                if (remaining_ == 0)
                    cstate_ = chunk_state::data_crlf;
            } else if (cstate_ == chunk_state::data_crlf) {
                if (in_.size() < 2)
                    return;
                if (in_.compare(0, 2, "\r\n") != 0)
                    throw std::runtime_error("missing CRLF after chunk data");
                in_.erase(0, 2);
                cstate_ = chunk_state::size;
            } else { // trailer: lines until an empty one
                auto e = in_.find("\r\n");
                if (e == std::string::npos)
                    return;
                bool empty = e == 0;
                in_.erase(0, e + 2);
                if (empty)
                    body_done_ = true;
            }
        }
        return;
    }
}

bool http_connection::read_head(std::chrono::milliseconds timeout, bool head_request) {
    if (head_done_)
        return true;
    auto deadline = clock::now() + timeout;
    while (true) {
        if (try_parse_head(head_request)) {
            decode_body();
            return true;
        }
        if (eof_)
            return false;
        if (!fill(deadline))
            return false;
    }
}

bool http_connection::read_body(std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    if (!head_done_)
        return false;
    while (true) {
        decode_body();
        if (body_done_)
            return true;
        if (eof_)
            return false;
        if (!fill(deadline)) {
            decode_body();
            return body_done_;
        }
    }
}

bool http_connection::read_body_at_least(std::size_t n, std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    if (!head_done_)
        return false;
    while (true) {
        decode_body();
        if (body_done_ || cur_.body.size() >= n)
            return cur_.body.size() >= n;
        if (eof_)
            return false;
        if (!fill(deadline)) {
            decode_body();
            return cur_.body.size() >= n;
        }
    }
}

http_response http_connection::take_response() {
    http_response r = std::move(cur_);
    cur_ = http_response{};
    head_done_ = false;
    body_done_ = false;
    mode_ = body_mode::none;
    remaining_ = 0;
    return r;
}

std::optional<http_response> http_connection::read_response(std::chrono::milliseconds timeout,
                                                            bool head_request) {
    auto deadline = clock::now() + timeout;
    if (!read_head(timeout, head_request))
        return std::nullopt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left < 0ms)
        left = 0ms;
    if (!read_body(left))
        return std::nullopt;
    return take_response();
}

bool http_connection::wait_closed(std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    while (!eof_) {
        if (fd_ < 0)
            return false;
        if (!fill(deadline))
            return eof_;
    }
    return true;
}

http_response http_request(std::uint16_t port, std::string_view method, std::string_view target,
                           const header_list& headers, std::chrono::milliseconds timeout) {
    http_connection c(port);
    if (!c.send_request(method, target, headers))
        throw std::runtime_error("could not send " + std::string(method) + " " +
                                 std::string(target));
    auto r = c.read_response(timeout, method == "HEAD");
    if (!r)
        throw std::runtime_error(
            "no complete response to " + std::string(method) + " " + std::string(target) +
            " within " + std::to_string(timeout.count()) +
            " ms; received: " + tail(c.raw_received(), 400) + (c.peer_closed() ? " [closed]" : ""));
    return *r;
}

// ---------------------------------------------------------------- watch_client

watch_client::watch_client(std::uint16_t port, std::string_view id, const header_list& headers,
                           std::string_view version, std::string_view query)
    : conn_(port) {
    std::string target = "/task/" + std::string(id);
    if (!query.empty())
        target += "?" + std::string(query);
    header_list h = headers;
    if (version == "HTTP/1.0") {
        bool has_host = false;
        for (auto& [k, v] : h)
            if (iequals(k, "Host"))
                has_host = true;
        if (!has_host)
            h.emplace_back("Host", "127.0.0.1");
    }
    if (!conn_.send_request("GET", target, h, version))
        throw std::runtime_error("could not send watch request");
}

bool watch_client::wait_head(std::chrono::milliseconds timeout) {
    return conn_.read_head(timeout);
}

bool watch_client::wait_established(std::chrono::milliseconds timeout) {
    if (!conn_.read_head(timeout))
        return false;
    return conn_.current().status == 200 && !conn_.body_complete();
}

bool watch_client::finish(std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    if (!conn_.read_head(timeout))
        return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left < 0ms)
        left = 0ms;
    return conn_.read_body(left);
}

std::size_t watch_client::leading_newlines() const {
    auto& b = conn_.body_so_far();
    std::size_t i = 0;
    while (i < b.size() && b[i] == '\n')
        ++i;
    return i;
}

} // namespace rpd::test
