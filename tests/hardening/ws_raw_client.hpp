// A small blocking RFC 6455 client on a raw socket, for hostile-client tests:
// every byte it sends is under the test's control (floods, oversized or
// broken frames, a client that never reads), and every read has a deadline.
// Header-only; hardening tests only.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace rpd::test {

struct ws_frame {
    std::uint8_t opcode = 0; // 1 text, 2 binary, 8 close, 9 ping, 10 pong
    std::string payload;
    // A close frame's status code (0 when it carried none).
    unsigned close_code() const {
        if (opcode != 8 || payload.size() < 2)
            return 0;
        return (static_cast<unsigned char>(payload[0]) << 8) |
               static_cast<unsigned char>(payload[1]);
    }
};

class ws_raw_client {
public:
    using clock = std::chrono::steady_clock;

    // Connects to 127.0.0.1:port; so_rcvbuf > 0 sets SO_RCVBUF first (a
    // small receive window for a client that does not read).
    explicit ws_raw_client(std::uint16_t port, int so_rcvbuf = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0)
            throw std::runtime_error("socket");
        if (so_rcvbuf > 0)
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &so_rcvbuf, sizeof so_rcvbuf);
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd_);
            throw std::runtime_error("connect");
        }
    }
    ~ws_raw_client() { close(); }
    ws_raw_client(const ws_raw_client&) = delete;
    ws_raw_client& operator=(const ws_raw_client&) = delete;

    int fd() const { return fd_; }

    // Sends the upgrade request and reads the answer's head; true on 101.
    bool handshake(std::string_view path = "/ws",
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        std::string req = "GET " + std::string(path) +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n";
        if (!send_raw(req))
            return false;
        const auto deadline = clock::now() + timeout;
        std::size_t end;
        while ((end = in_.find("\r\n\r\n")) == std::string::npos)
            if (!fill(deadline))
                return false;
        head_ = in_.substr(0, end + 4);
        in_.erase(0, end + 4);
        return head_.rfind("HTTP/1.1 101", 0) == 0;
    }
    const std::string& handshake_head() const { return head_; }

    // One masked frame (FIN set unless `fin` is false).
    static std::string frame(std::string_view payload, std::uint8_t opcode = 1, bool fin = true) {
        std::string f;
        f.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
        const std::uint64_t n = payload.size();
        if (n < 126) {
            f.push_back(static_cast<char>(0x80 | n));
        } else if (n <= 0xffff) {
            f.push_back(static_cast<char>(0x80 | 126));
            f.push_back(static_cast<char>(n >> 8));
            f.push_back(static_cast<char>(n & 0xff));
        } else {
            f.push_back(static_cast<char>(0x80 | 127));
            for (int i = 7; i >= 0; --i)
                f.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
        }
        const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
        f.append(reinterpret_cast<const char*>(mask), 4);
        for (std::size_t i = 0; i < payload.size(); ++i)
            f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
        return f;
    }

    bool send_text(std::string_view text) { return send_raw(frame(text, 1)); }

    // Writes all bytes (blocking); false when the peer is gone.
    bool send_raw(std::string_view bytes) {
        while (!bytes.empty()) {
            const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return false;
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // The next complete message (text, binary or close); pings are answered
    // and pongs skipped. nullopt on timeout or when the connection ended
    // (see closed()).
    std::optional<ws_frame> next(std::chrono::milliseconds timeout) {
        const auto deadline = clock::now() + timeout;
        std::string message;
        std::uint8_t message_opcode = 0;
        for (;;) {
            auto f = parse_one();
            if (!f) {
                if (!fill(deadline))
                    return std::nullopt;
                continue;
            }
            auto& [fin, op, payload] = *f;
            if (op == 9) {
                send_raw(frame(payload, 10));
                continue;
            }
            if (op == 10)
                continue;
            if (op == 8)
                return ws_frame{8, payload};
            if (op != 0)
                message_opcode = op;
            message.append(payload);
            if (fin)
                return ws_frame{message_opcode, std::move(message)};
        }
    }

    // Reads (and discards) until the peer closes the TCP connection, or the
    // timeout passes; true once closed. The close frame, if any, is kept.
    bool wait_closed(std::chrono::milliseconds timeout) {
        const auto deadline = clock::now() + timeout;
        while (!closed_) {
            while (auto f = parse_one())
                if (std::get<1>(*f) == 8)
                    close_frame_ = ws_frame{8, std::get<2>(*f)};
            if (closed_)
                break;
            if (!fill(deadline) && !closed_)
                return false;
        }
        while (auto f = parse_one())
            if (std::get<1>(*f) == 8)
                close_frame_ = ws_frame{8, std::get<2>(*f)};
        return true;
    }
    const std::optional<ws_frame>& close_frame() const { return close_frame_; }
    bool closed() const { return closed_; }
    std::size_t bytes_received() const { return received_; }

    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    // One frame from the buffer: {fin, opcode, payload}.
    std::optional<std::tuple<bool, std::uint8_t, std::string>> parse_one() {
        if (in_.size() < 2)
            return std::nullopt;
        const auto b0 = static_cast<unsigned char>(in_[0]);
        const auto b1 = static_cast<unsigned char>(in_[1]);
        std::size_t pos = 2;
        std::uint64_t n = b1 & 0x7f;
        if (n == 126) {
            if (in_.size() < 4)
                return std::nullopt;
            n = (static_cast<unsigned char>(in_[2]) << 8) | static_cast<unsigned char>(in_[3]);
            pos = 4;
        } else if (n == 127) {
            if (in_.size() < 10)
                return std::nullopt;
            n = 0;
            for (int i = 0; i < 8; ++i)
                n = (n << 8) | static_cast<unsigned char>(in_[2 + i]);
            pos = 10;
        }
        if (b1 & 0x80)
            pos += 4; // a server never masks; tolerate it anyway
        if (in_.size() < pos + n)
            return std::nullopt;
        std::string payload = in_.substr(pos, n);
        in_.erase(0, pos + n);
        return std::tuple<bool, std::uint8_t, std::string>{
            (b0 & 0x80) != 0, static_cast<std::uint8_t>(b0 & 0x0f), std::move(payload)};
    }

    // One read with a deadline; false on timeout or end of the connection.
    bool fill(clock::time_point deadline) {
        if (closed_ || fd_ < 0)
            return false;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0)
            return false;
        pollfd p{fd_, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r <= 0)
            return false;
        char buf[65536];
        const auto n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
            closed_ = true;
            return false;
        }
        received_ += static_cast<std::size_t>(n);
        in_.append(buf, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    std::string in_;
    std::string head_;
    bool closed_ = false;
    std::size_t received_ = 0;
    std::optional<ws_frame> close_frame_;
};

} // namespace rpd::test
