// Shared bits of the queue and mailbox tests (MODES.md 0, 1, 2, 4 identify,
// 5, 6). Black-box: the daemon is driven over HTTP / WebSocket, Redis through
// hiredis; signatures and tokens are computed here with OpenSSL.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "streams/stream_common.hpp"

namespace rpd::test {

// Keys with the default prefix "RA_" (the implementation's decisions, see
// README.md): queue list, in-flight list, mailbox list.
inline std::string qkey(const std::string& name, const std::string& prefix = "RA_") {
    return prefix + "Q_" + name;
}
inline std::string qikey(const std::string& name, const std::string& prefix = "RA_") {
    return prefix + "QI_" + name;
}
inline std::string mkey(const std::string& identity, const std::string& prefix = "RA_M_") {
    return prefix + identity;
}

// Signed URL segments: first 16 bytes (task.signature_bytes default) of
// HMAC-SHA256(secret, "<purpose>:" + name), base64url without padding.
inline std::string signed_queue(const std::string& secret, const std::string& name) {
    return name + "." + hmac_b64url(secret, "queue:" + name, 16);
}
inline std::string signed_mailbox(const std::string& secret, const std::string& identity) {
    return identity + "." + hmac_b64url(secret, "mailbox:" + identity, 16);
}

inline long long llen(redis_client& c, const std::string& key) {
    return c.command({"LLEN", key}).integer;
}
inline std::vector<std::string> lrange(redis_client& c, const std::string& key) {
    std::vector<std::string> out;
    for (auto& e : c.command({"LRANGE", key, "0", "-1"}).elements)
        out.push_back(e.str);
    return out;
}
inline long long rpush(redis_client& c, const std::string& key,
                       const std::vector<std::string>& values) {
    std::vector<std::string> args = {"RPUSH", key};
    args.insert(args.end(), values.begin(), values.end());
    return c.command(args).integer;
}

// Every command the daemon could use to take from or look at a list.
inline long long list_take_calls(redis_client& c) {
    long long n = 0;
    for (const char* cmd :
         {"lpop",    "rpop",  "lmove",   "blmove",     "rpoplpush", "brpoplpush", "blpop",
          "brpop",   "lmpop", "blmpop",  "lrange",     "llen",      "lindex",     "eval",
          "evalsha", "fcall", "eval_ro", "evalsha_ro", "multi",     "exec"})
        n += command_calls(c, cmd);
    return n;
}

// Sends RST instead of FIN on close: the peer's next write fails.
inline void close_with_reset(http_connection& c) {
    linger l{1, 0};
    ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    c.close();
}

inline bool is_delivery_id(const std::string& id) {
    static const std::regex re("^[A-Za-z0-9_-]+$");
    return std::regex_match(id, re);
}

inline double ms_between(clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

// A fresh daemon per test; the queue/mailbox tests share short timeouts.
class queue_test : public daemon_test {
protected:
    json daemon_config() override {
        json c = {{"queue", {{"timeout_seconds", 5}}},
                  {"mailbox", {{"timeout_seconds", 5}}},
                  {"modes", {{"recheck_ms", 200}}}};
        c.merge_patch(extra_config());
        return c;
    }
    virtual json extra_config() { return json::object(); }

    http_response get(const std::string& target, const header_list& headers = {},
                      std::chrono::milliseconds timeout = 5000ms) {
        return http_get(port(), target, headers, timeout);
    }
    http_response head(const std::string& target) {
        http_connection c(port());
        if (!c.send_request("HEAD", target))
            throw std::runtime_error("could not send HEAD " + target);
        auto r = c.read_response(5000ms, true);
        if (!r)
            throw std::runtime_error("no answer to HEAD " + target);
        return *r;
    }
    double waiters(daemon_process& d) { return d.metric("redis_push_queue_waiters").value_or(-1); }
    double waiters() { return waiters(daemon()); }
    // Until the waiter gauge reaches n (the daemon registered the waits).
    bool wait_waiters(double n, std::chrono::milliseconds timeout = 5000ms) {
        return wait_until([&] { return waiters() >= n; }, timeout, 5ms);
    }
    bool wait_waiters(daemon_process& d, double n, std::chrono::milliseconds timeout = 5000ms) {
        return wait_until([&] { return waiters(d) >= n; }, timeout, 5ms);
    }
    // A mailbox waiter (HTTP or WebSocket) for `list_key` is registered: the
    // daemon watches the key's keyspace channel (MODES.md 0), or, when it
    // counts mailbox waiters in redis_push_queue_waiters, the gauge moved.
    bool wait_key_watched(const std::string& list_key, double gauge_at_least = 1,
                          std::chrono::milliseconds timeout = 5000ms) {
        return wait_until(
            [&] {
                return cli().numsub("__keyspace@0__:" + list_key) >= 1 ||
                       waiters() >= gauge_at_least;
            },
            timeout, 5ms);
    }
    std::unique_ptr<stream_poll> pending(const std::string& target,
                                         const header_list& headers = {}) {
        return std::make_unique<stream_poll>(port(), target, headers);
    }
    std::unique_ptr<ws_client> connect_ws(ws_options o = {}) {
        return std::make_unique<ws_client>(port(), std::move(o));
    }
    double counter(const std::string& name, const std::vector<std::string>& labels) {
        return metric_with_labels(daemon().metrics(), name, labels).value_or(0);
    }
};

// ------------------------------------------------------------ WebSocket

inline json identify_frame(const std::string& identity) {
    return {{"event", "identify"}, {"queue", identity}};
}
inline json error_event(const std::string& text) {
    return {{"event", "error"}, {"error", text}};
}

// Reads raw text frames until `n` arrived in total (kept in `got`).
inline bool read_frames(ws_client& ws, std::vector<std::string>& got, std::size_t n,
                        std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = clock::now() + timeout;
    while (got.size() < n) {
        const auto now = clock::now();
        if (now >= deadline)
            return false;
        auto f = ws.read(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
        if (!f)
            return false;
        got.push_back(*f);
    }
    return true;
}

// Sends a frame that is not JSON and reads frames until its error frame
// (`{"type":"error",...}`, MODES.md 4): every frame before it is returned.
// Proves "nothing else was sent before this point" without a sleep, and
// leaves the socket's identity alone.
inline std::optional<std::vector<std::string>> frames_until_probe(ws_client& ws) {
    if (!ws.send("{not json"))
        return std::nullopt;
    std::vector<std::string> before;
    const auto deadline = clock::now() + 5000ms;
    while (clock::now() < deadline) {
        auto f = ws.read(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now() + 1ms));
        if (!f)
            return std::nullopt;
        const json j = parse_or_null(*f);
        if (j.is_object() && j.value("type", "") == "error")
            return before;
        before.push_back(*f);
    }
    return std::nullopt;
}

} // namespace rpd::test
