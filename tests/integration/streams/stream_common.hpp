// Shared bits of the stream-mode tests (MODES.md 0, 3, 4, 5, 6). Black-box:
// the daemon is driven over HTTP / WebSocket, Redis through hiredis.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common.hpp"
#include "sse.hpp"
#include "ws_client.hpp"

namespace rpd::test {

using field_list = std::vector<std::pair<std::string, std::string>>;

// Stream "news" lives at "RA_S_news".
inline std::string skey(const std::string& name, const std::string& prefix = "RA_") {
    return prefix + "S_" + name;
}

// XADD <key> [MAXLEN n] <id> field value ...; returns the id.
inline std::string xadd(redis_client& c, const std::string& name, const field_list& fields,
                        const std::string& id = "*", std::optional<long long> exact_maxlen = {}) {
    std::vector<std::string> args = {"XADD", skey(name)};
    if (exact_maxlen) {
        args.push_back("MAXLEN");
        args.push_back(std::to_string(*exact_maxlen));
    }
    args.push_back(id);
    for (auto& [k, v] : fields) {
        args.push_back(k);
        args.push_back(v);
    }
    return c.command(args).str;
}

inline long long xlen(redis_client& c, const std::string& name) {
    return c.command({"XLEN", skey(name)}).integer;
}

// base64url without padding.
inline std::string b64url(const unsigned char* data, std::size_t n) {
    static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
        out += tbl[(v >> 6) & 63];
        out += tbl[v & 63];
    }
    if (n - i == 1) {
        unsigned v = data[i] << 16;
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
    } else if (n - i == 2) {
        unsigned v = (data[i] << 16) | (data[i + 1] << 8);
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
        out += tbl[(v >> 6) & 63];
    }
    return out;
}

// base64url(first `bytes` of HMAC-SHA256(secret, message)), no padding.
inline std::string hmac_b64url(const std::string& secret, const std::string& message,
                               std::size_t bytes = 32) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
    return b64url(mac, std::min<std::size_t>(bytes, len));
}

// The signed URL segment of a stream name (signatures as for task ids: the
// first 16 bytes by default, over "stream:" + name).
inline std::string signed_stream(const std::string& secret, const std::string& name) {
    return name + "." + hmac_b64url(secret, "stream:" + name, 16);
}
// The publish bearer token: the full HMAC over "publish:" + name.
inline std::string publish_token(const std::string& secret, const std::string& name) {
    return hmac_b64url(secret, "publish:" + name, 32);
}

// "1700000000000-3" -> {1700000000000, 3}; for comparisons.
inline std::pair<unsigned long long, unsigned long long> id_parts(const std::string& id) {
    const auto dash = id.find('-');
    if (dash == std::string::npos)
        return {std::stoull(id), 0};
    return {std::stoull(id.substr(0, dash)), std::stoull(id.substr(dash + 1))};
}
inline bool id_less(const std::string& a, const std::string& b) {
    return id_parts(a) < id_parts(b);
}

inline json parse_or_null(const std::string& s) {
    try {
        return json::parse(s);
    } catch (const std::exception&) {
        return json();
    }
}

// A body that must be a JSON array of messages.
inline ::testing::AssertionResult is_message_array(const http_response& r) {
    const json j = parse_or_null(r.body);
    if (!j.is_array())
        return ::testing::AssertionFailure() << "body is not a JSON array: `" << r.body << "`";
    for (auto& m : j)
        if (!m.is_object() || !m.contains("offset") || !m["offset"].is_string())
            return ::testing::AssertionFailure()
                   << "an element is not a message with a string offset: " << m.dump();
    return ::testing::AssertionSuccess();
}

inline std::vector<std::string> offsets_of(const json& messages) {
    std::vector<std::string> out;
    for (auto& m : messages)
        out.push_back(m.value("offset", std::string("<none>")));
    return out;
}

// INFO commandstats: calls of one command (lower case, e.g. "xread"), 0 when absent.
inline long long command_calls(redis_client& c, const std::string& cmd) {
    const std::string info = c.command({"INFO", "commandstats"}).str;
    const std::string tag = "cmdstat_" + cmd + ":calls=";
    const auto pos = info.find(tag);
    if (pos == std::string::npos)
        return 0;
    return std::stoll(info.substr(pos + tag.size()));
}

// Every stream-reading command the daemon could use to fetch new entries.
inline long long stream_read_calls(redis_client& c) {
    return command_calls(c, "xread") + command_calls(c, "xrange") + command_calls(c, "xrevrange") +
           command_calls(c, "xreadgroup");
}

inline std::string config_get(redis_client& c, const std::string& key) {
    auto v = c.command({"CONFIG", "GET", key});
    return v.elements.size() >= 2 ? v.elements[1].str : std::string();
}

// `redis-cli monitor` in the background: every command Redis executes,
// one line each (`<time> [db addr] "CMD" "arg" ...`).
class redis_monitor {
public:
    explicit redis_monitor(std::uint16_t redis_port) {
        proc_ = child_process::spawn(
            {"/usr/bin/redis-cli", "-p", std::to_string(redis_port), "monitor"},
            dir_.file("monitor.log"), dir_.file("monitor.err"));
        if (!wait_until([&] { return contains(text(), "OK"); }, 5000ms))
            throw std::runtime_error("redis-cli monitor did not start: " +
                                     read_file(dir_.file("monitor.err")));
    }
    ~redis_monitor() { proc_.kill_now(); }
    std::string text() const { return read_file(dir_.file("monitor.log")); }
    // Lines holding every fragment given.
    std::vector<std::string> lines_with(const std::vector<std::string>& fragments) const {
        std::vector<std::string> out;
        const std::string t = text();
        std::size_t pos = 0;
        while (pos < t.size()) {
            auto nl = t.find('\n', pos);
            if (nl == std::string::npos)
                nl = t.size();
            const std::string line = t.substr(pos, nl - pos);
            bool all = true;
            for (auto& f : fragments)
                all = all && contains(line, f);
            if (all)
                out.push_back(line);
            pos = nl + 1;
        }
        return out;
    }
    bool wait_for(const std::vector<std::string>& fragments,
                  std::chrono::milliseconds timeout = 3000ms) const {
        return wait_until([&] { return !lines_with(fragments).empty(); }, timeout, 10ms);
    }

private:
    temp_dir dir_;
    child_process proc_;
};

// ------------------------------------------------------------ long-poll

// A long-poll in flight on its own connection.
class stream_poll {
public:
    stream_poll(std::uint16_t port, const std::string& target, const header_list& headers = {})
        : conn_(port) {
        if (!conn_.send_request("GET", target, headers))
            throw std::runtime_error("could not send " + target);
    }
    // The whole answer, nullopt when none within the timeout.
    std::optional<http_response> wait(std::chrono::milliseconds timeout) {
        return conn_.read_response(timeout);
    }
    http_connection& conn() { return conn_; }

private:
    http_connection conn_;
};

inline http_response post(std::uint16_t port, const std::string& target, const std::string& body,
                          header_list headers = {}, std::chrono::milliseconds timeout = 5000ms) {
    http_connection c(port);
    if (!c.send_request("POST", target, headers, "HTTP/1.1", body))
        throw std::runtime_error("could not send POST " + target);
    auto r = c.read_response(timeout);
    if (!r)
        throw std::runtime_error("no answer to POST " + target +
                                 "; received: " + tail(c.raw_received(), 400));
    return *r;
}

// ------------------------------------------------------------ SSE

// `GET /stream/<segment><query>` as an event stream, read as it arrives.
class stream_sse {
public:
    stream_sse(std::uint16_t port, const std::string& segment, const std::string& query = "",
               const header_list& extra = {}, bool accept_header = true)
        : conn_(port) {
        header_list h;
        if (accept_header)
            h.emplace_back("Accept", "text/event-stream");
        h.insert(h.end(), extra.begin(), extra.end());
        if (!conn_.send_request("GET", "/stream/" + segment + query, h))
            throw std::runtime_error("could not send the event-stream request");
    }

    bool wait_head(std::chrono::milliseconds timeout = 5000ms) { return conn_.read_head(timeout); }
    // 200, text/event-stream, body still open.
    bool wait_stream(std::chrono::milliseconds timeout = 5000ms) {
        if (!conn_.read_head(timeout))
            return false;
        const auto& r = conn_.current();
        const auto ct = r.header("Content-Type").value_or("");
        const bool es = ct.rfind("text/event-stream", 0) == 0 && (ct.size() == 17 || ct[17] == ';');
        return r.status == 200 && es && !conn_.body_complete();
    }
    bool read_until(const std::function<bool(const sse_parse&)>& pred,
                    std::chrono::milliseconds timeout) {
        const auto deadline = clock::now() + timeout;
        if (!conn_.head_received() && !conn_.read_head(timeout))
            return false;
        while (true) {
            const auto p = parse_sse(conn_.body_so_far());
            if (pred(p))
                return true;
            if (!p.error.empty() || conn_.body_complete() || conn_.peer_closed())
                return false;
            const auto now = clock::now();
            if (now >= deadline)
                return false;
            conn_.read_body_at_least(
                conn_.body_so_far().size() + 1,
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) + 1ms);
        }
    }
    // Until at least n `event: message` blocks arrived.
    bool wait_messages(std::size_t n, std::chrono::milliseconds timeout = 5000ms) {
        return read_until([&](const sse_parse& p) { return message_events(p).size() >= n; },
                          timeout);
    }
    bool wait_comments(std::size_t n, std::chrono::milliseconds timeout) {
        return read_until([&](const sse_parse& p) { return p.comment_count() >= n; }, timeout);
    }

    static std::vector<sse_unit> message_events(const sse_parse& p) {
        std::vector<sse_unit> out;
        for (auto& u : p.units)
            if (u.is_event() && u.event() == "message")
                out.push_back(u);
        return out;
    }
    sse_parse parsed() const { return parse_sse(conn_.body_so_far()); }
    std::vector<sse_unit> messages() const { return message_events(parsed()); }
    // The data of each `event: message`, parsed.
    std::vector<json> message_data() const {
        std::vector<json> out;
        for (auto& u : messages())
            out.push_back(parse_or_null(u.data()));
        return out;
    }
    std::vector<sse_unit> events() const { return parsed().events(); }
    const http_response& response() const { return conn_.current(); }
    const std::string& body() const { return conn_.body_so_far(); }
    http_connection& conn() { return conn_; }
    void close() { conn_.close(); }
    std::string describe() const {
        const auto& r = conn_.current();
        std::string out = "status " + std::to_string(r.status) + ", ";
        const auto p = parsed();
        out += p.error.empty() ? "framing ok" : "framing error: " + p.error;
        const auto& b = conn_.body_so_far();
        out += "\nbody (" + std::to_string(b.size()) + " bytes, last 1500):\n" +
               visible(b.size() > 1500 ? b.substr(b.size() - 1500) : b);
        return out;
    }

private:
    http_connection conn_;
};

// A fresh daemon per test with the stream mode's publishing switched on
// (most tests); subclasses merge their own keys over it.
class stream_test : public daemon_test {
protected:
    json daemon_config() override {
        json c = {{"stream", {{"allow_publish", true}}}};
        c.merge_patch(extra_config());
        return c;
    }
    virtual json extra_config() { return json::object(); }

    double stream_subscribers() {
        return daemon().metric("redis_push_stream_subscribers").value_or(-1);
    }
    // The daemon watches a stream with local waiters through its keyspace
    // channel (MODES.md 0): once subscribed, a waiter with offset $ has
    // been set up, so an XADD from now on is "new" to it.
    static std::string keyspace_channel(const std::string& name, int db = 0) {
        return "__keyspace@" + std::to_string(db) + "__:" + skey(name);
    }
    bool wait_watched(const std::string& name, std::chrono::milliseconds timeout = 5000ms) {
        return wait_until([&] { return cli().numsub(keyspace_channel(name)) >= 1; }, timeout, 5ms);
    }
    // Until the daemon's stream reads (INFO commandstats) stop changing: the
    // initial reads of the subscriptions just set up are done.
    void wait_reads_settled() {
        long long last = -1;
        int stable = 0;
        wait_until(
            [&] {
                const long long now = stream_read_calls(cli());
                stable = now == last ? stable + 1 : 0;
                last = now;
                return stable >= 5;
            },
            10000ms, 100ms);
    }
    // Waits until the daemon counts at least n stream subscriptions.
    bool wait_subscribers(double n, std::chrono::milliseconds timeout = 5000ms) {
        return wait_until([&] { return stream_subscribers() >= n; }, timeout, 20ms);
    }
    std::string add(const std::string& name, const field_list& fields,
                    const std::string& id = "*") {
        return xadd(cli(), name, fields, id);
    }
    std::unique_ptr<ws_client> connect_ws(ws_options o = {}) {
        return std::make_unique<ws_client>(port(), std::move(o));
    }
    http_response get(const std::string& target, const header_list& headers = {},
                      std::chrono::milliseconds timeout = 5000ms) {
        return http_get(port(), target, headers, timeout);
    }
};

} // namespace rpd::test
