// A small synchronous WebSocket test client (Boost.Beast websocket::stream
// over a plain TCP socket) with deadlines on every read.
//
// Reads never cancel: a read that passes its deadline stays pending and the
// next read() continues it, so no frame is lost and the stream stays usable
// (Beast tears a websocket down when an operation is cancelled). Writes run
// the same io_context, so a frame that arrives while writing is kept.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "util.hpp"

namespace rpd::test {

struct ws_options {
    std::string path = "/ws";
    header_list headers;                          // extra upgrade request headers (e.g. Origin)
    int so_rcvbuf = 0;                            // > 0: SO_RCVBUF set before connect
    std::chrono::milliseconds timeout = 5000ms;   // connect + handshake
    std::uint64_t read_message_max = 64ull << 20; // largest frame the client accepts
};

// The answer to an upgrade request that was not accepted (or was).
struct ws_handshake_result {
    bool upgraded = false;
    int status = 0;
    header_list headers;
    std::string body;
    std::string error; // Beast's error text, when not upgraded
    std::optional<std::string> header(std::string_view name) const;
};

class ws_client {
public:
    // Connects and upgrades; throws std::runtime_error when the upgrade is
    // not accepted (see try_upgrade to look at a refusal).
    explicit ws_client(std::uint16_t port, ws_options opts = {});
    ~ws_client();
    ws_client(const ws_client&) = delete;
    ws_client& operator=(const ws_client&) = delete;

    // One upgrade attempt; the connection is closed afterwards.
    static ws_handshake_result try_upgrade(std::uint16_t port, ws_options opts = {});

    // Sends one text frame; false when the connection is gone or the write
    // did not finish within the timeout.
    bool send(std::string_view text, std::chrono::milliseconds timeout = 5000ms);
    bool send_json(const nlohmann::json& j, std::chrono::milliseconds timeout = 5000ms) {
        return send(j.dump(), timeout);
    }

    // The next text message, nullopt on timeout or once closed.
    std::optional<std::string> read(std::chrono::milliseconds timeout = 5000ms);
    // The next message parsed as JSON (a non-JSON message is returned as a
    // JSON string holding its text, marked "<not json>" in describe()).
    std::optional<nlohmann::json> read_json(std::chrono::milliseconds timeout = 5000ms);
    // Reads messages until pred holds for one (returned); every message read
    // (that one too) is appended to log(). nullopt on timeout / close.
    std::optional<nlohmann::json> read_until(const std::function<bool(const nlohmann::json&)>& pred,
                                             std::chrono::milliseconds timeout = 5000ms);
    // Reads (keeping messages in log()) until the peer closed; true if it did.
    bool wait_closed(std::chrono::milliseconds timeout = 5000ms);

    // The daemon closed (a close frame arrived, or the connection ended).
    bool closed() const { return closed_; }
    // Close code from the peer's close frame; 0 when none (reset / EOF).
    int close_code() const { return close_code_; }
    const std::string& close_reason() const { return close_reason_; }
    const std::string& error() const { return error_; }

    // Every message read so far, parsed (a non-JSON message as a string).
    const std::vector<nlohmann::json>& log() const { return log_; }
    std::string describe() const;

    // Ping frames received so far (counted while reading; Beast answers
    // each with a pong).
    int pings() const { return *pings_; }
    // Reads (keeping messages in log()) until n pings arrived in total.
    bool wait_pings(int n, std::chrono::milliseconds timeout);

    // Sends a close frame (code 1000) and waits briefly for the answer.
    void close(std::chrono::milliseconds timeout = 2000ms);
    // Drops the TCP connection without a close frame.
    void abort();

    int native_fd() const;

private:
    struct impl;
    std::unique_ptr<impl> p_;
    bool closed_ = false;
    int close_code_ = 0;
    std::string close_reason_;
    std::string error_;
    std::vector<nlohmann::json> log_;
    std::shared_ptr<int> pings_ = std::make_shared<int>(0);
};

} // namespace rpd::test
