// Hostile input for the queue and mailbox modes (MODES.md 0, 1, 2, 4, 6),
// against the real daemon and a real redis-server: huge messages (publish
// at / over queue.max_message_bytes, 10 MB pushed straight into Redis), keys
// of the wrong Redis type, names at and over the limits, and floods of
// identifies (5,000 on one socket, 200 sockets for one identity). Each must
// end in a clear answer, never a crash, a hang or a leak: /healthz keeps
// answering and everything returns to its baseline.
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "common.hpp"
#include "ws_raw_client.hpp"

using namespace rpd::test;

namespace {

std::string qkey(const std::string& n) {
    return "RA_Q_" + n;
}
std::string mkey(const std::string& n) {
    return "RA_M_" + n;
}

json frame_json(const ws_frame& f) {
    return json::parse(f.payload, nullptr, false);
}
std::string identify(const std::string& who) {
    return json{{"event", "identify"}, {"queue", who}}.dump();
}

// Deterministic printable text (not JSON) of n bytes.
std::string text_of(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, ' ');
    for (auto& c : s)
        c = static_cast<char>('a' + rng() % 26);
    s[0] = '#'; // never valid JSON
    return s;
}

class queue_hostile : public daemon_test {
protected:
    json daemon_config() override {
        return {{"log", {{"level", "info"}}},
                {"queue", {{"allow_publish", true}, {"timeout_seconds", 2}}},
                {"mailbox", {{"timeout_seconds", 2}}},
                {"modes", {{"recheck_ms", 200}}}};
    }
    void SetUp() override {
        raise_fd_limit(4096);
        daemon_test::SetUp();
    }
    double metric(const std::string& name) { return daemon().metric(name).value_or(-1); }
    std::size_t keyspace_channels() { return cli().channels("__keyspace*").size(); }
    bool healthy() {
        try {
            return http_get(port(), "/healthz", {}, 2000ms).status == 200;
        } catch (const std::exception&) {
            return false;
        }
    }
    http_response post(const std::string& target, const std::string& body,
                       std::chrono::milliseconds timeout = 10000ms) {
        http_connection c(port());
        if (!c.send_request("POST", target, {}, "HTTP/1.1", body))
            return http_response{}; // status 0: the daemon closed while we wrote
        auto r = c.read_response(timeout);
        return r.value_or(http_response{});
    }
    std::unique_ptr<ws_raw_client> ws() {
        auto c = std::make_unique<ws_raw_client>(port());
        EXPECT_TRUE(c->handshake()) << c->handshake_head();
        return c;
    }
    // Sends a non-JSON probe; returns the frames before its error answer.
    std::optional<std::vector<ws_frame>> until_probe(ws_raw_client& c,
                                                     std::chrono::milliseconds t = 10000ms) {
        if (!c.send_text("{probe"))
            return std::nullopt;
        std::vector<ws_frame> before;
        const auto deadline = clock::now() + t;
        while (clock::now() < deadline) {
            auto f = c.next(std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - clock::now() + 1ms));
            if (!f || f->opcode == 8)
                return std::nullopt;
            const json j = frame_json(*f);
            if (j.is_object() && j.value("type", "") == "error")
                return before;
            before.push_back(*f);
        }
        return std::nullopt;
    }
};

// ------------------------------------------------------------ huge messages

class queue_hostile_big : public queue_hostile {
    json daemon_config() override {
        json c = queue_hostile::daemon_config();
        c["queue"]["max_message_bytes"] = 1048576;
        return c;
    }
};

TEST_F(queue_hostile_big, PublishAtTheLimitIsAcceptedOverItIs413) {
    const std::string at = text_of(1048576, 1);
    auto r = post("/queue/big", at);
    EXPECT_EQ(r.status, 201) << r.body;
    r = post("/queue/big", at + "x");
    EXPECT_TRUE(r.status == 413 || r.status == 0) << r.status << " " << r.body;
    if (r.status == 413) {
        EXPECT_EQ(r.body, R"({"status":"error","error_message":"Request too large"})");
    }
    EXPECT_EQ(cli().command({"LLEN", qkey("big")}).integer, 1) << "the oversized body was pushed";
    // A declared 16 MB body is refused without waiting for it.
    http_connection c(port());
    ASSERT_TRUE(c.send("POST /queue/big HTTP/1.1\r\nHost: x\r\nContent-Length: 16777216\r\n\r\n"));
    ASSERT_TRUE(c.send(std::string(4096, 'a')));
    auto over = c.read_response(5000ms);
    if (over) {
        EXPECT_EQ(over->status, 413);
    } else {
        EXPECT_TRUE(c.wait_closed(5000ms)) << "neither 413 nor a close for a declared 16 MB body";
    }
    EXPECT_TRUE(healthy());
    auto got = http_get(port(), "/queue/big?timeout=0", {}, 10000ms);
    EXPECT_EQ(got.status, 200);
    EXPECT_TRUE(got.body == at) << "the published 1 MiB message changed";
}

TEST_F(queue_hostile, ATenMegabyteMessageFromRedisIsDeliveredIntact) {
    const std::string big = text_of(10 << 20, 2);
    cli().command({"RPUSH", qkey("ten"), big});
    auto r = http_get(port(), "/queue/ten", {}, 30000ms);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), big.size());
    EXPECT_TRUE(r.body == big) << "the 10 MB queue message changed";

    const std::string big_json = R"({"blob":")" + text_of(10 << 20, 3).substr(1) + R"("})";
    cli().command({"RPUSH", mkey("ten"), big_json});
    cli().command({"RPUSH", mkey("ten"), big});
    r = http_get(port(), "/mailbox/ten", {}, 30000ms);
    ASSERT_EQ(r.status, 200);
    const json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_array() && j.size() == 2) << r.body.substr(0, 200);
    EXPECT_TRUE(j[0] == json::parse(big_json)) << "the 10 MB JSON mailbox message changed";
    EXPECT_TRUE(j[1] == big) << "the 10 MB text mailbox message changed";

    // Over WebSocket, one frame holding the stored string verbatim.
    auto c = ws();
    cli().command({"RPUSH", mkey("tenws"), big});
    ASSERT_TRUE(c->send_text(identify("tenws")));
    auto f = c->next(30000ms);
    ASSERT_TRUE(f) << "no frame for the 10 MB message";
    EXPECT_EQ(f->opcode, 1);
    EXPECT_EQ(f->payload.size(), big.size());
    EXPECT_TRUE(f->payload == big);
    EXPECT_TRUE(healthy());
}

TEST_F(queue_hostile, ManyLargeMessagesToManyWaitersLoseNothing) {
    constexpr int kWaiters = 20;
    std::vector<std::unique_ptr<http_connection>> conns;
    for (int i = 0; i < kWaiters; ++i) {
        conns.push_back(std::make_unique<http_connection>(port()));
        ASSERT_TRUE(conns.back()->send_request("GET", "/queue/lm?timeout=20"));
    }
    ASSERT_TRUE(wait_until([&] { return metric("redis_push_queue_waiters") >= kWaiters; }, 5000ms));
    std::set<std::string> sent;
    for (int i = 0; i < kWaiters; ++i) {
        const std::string m = std::to_string(i) + text_of(512 * 1024, 10 + i);
        sent.insert(m);
        cli().command({"RPUSH", qkey("lm"), m});
    }
    std::set<std::string> got;
    for (auto& c : conns) {
        auto r = c->read_response(20000ms);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200);
        got.insert(r->body);
    }
    EXPECT_TRUE(got == sent) << got.size() << " distinct of " << sent.size();
}

// ------------------------------------------------------------ wrong type

TEST_F(queue_hostile, KeysOfEveryWrongTypeAre502AndLeftAlone) {
    cli().set(qkey("str"), "s");
    cli().command({"HSET", qkey("hash"), "f", "v"});
    cli().command({"SADD", qkey("set"), "m"});
    cli().command({"ZADD", qkey("zset"), "1", "m"});
    cli().command({"XADD", qkey("stream"), "*", "f", "v"});
    for (const std::string& n : std::vector<std::string>{"str", "hash", "set", "zset", "stream"}) {
        cli().command({"COPY", qkey(n), mkey(n)});
        for (const std::string& t :
             std::vector<std::string>{"/queue/" + n + "?timeout=0", "/queue/" + n + "?timeout=1",
                                      "/queue/" + n + "?ack&timeout=0", "/mailbox/" + n,
                                      "/mailbox/" + n + "?timeout=0"}) {
            auto r = http_get(port(), t, {}, 5000ms);
            EXPECT_EQ(r.status, 502) << t << " -> " << r.body;
            EXPECT_EQ(r.body, R"({"status":"error","error_message":"Wrong type of Redis key"})")
                << t;
        }
        EXPECT_EQ(post("/queue/" + n, "m").status, 502) << "publish onto " << n;
        http_connection h(port());
        ASSERT_TRUE(h.send_request("HEAD", "/queue/" + n));
        auto hr = h.read_response(5000ms, true);
        ASSERT_TRUE(hr);
        EXPECT_EQ(hr->status, 502) << "HEAD " << n;
        // Over WebSocket: an error frame, never the value; the socket stays.
        auto c = ws();
        ASSERT_TRUE(c->send_text(identify(n)));
        auto before = until_probe(*c);
        ASSERT_TRUE(before) << "the socket did not survive identify of a " << n;
        for (auto& f : *before) {
            const json j = frame_json(f);
            EXPECT_TRUE(j.is_object() && j.value("event", "") == "error") << f.payload;
        }
    }
    EXPECT_EQ(cli().get(qkey("str")).value_or(""), "s");
    EXPECT_EQ(cli().command({"TYPE", qkey("stream")}).str, "stream");
    EXPECT_TRUE(healthy());
}

TEST_F(queue_hostile, AHundredWaitersOnAKeyTurnedWrongTypeAreAllAnswered) {
    std::vector<std::unique_ptr<http_connection>> conns;
    for (int i = 0; i < 100; ++i) {
        conns.push_back(std::make_unique<http_connection>(port()));
        ASSERT_TRUE(conns.back()->send_request("GET", i % 2 ? "/queue/flip?timeout=10"
                                                            : "/mailbox/flip?timeout=10"));
    }
    ASSERT_TRUE(wait_until([&] { return metric("redis_push_queue_waiters") >= 50; }, 5000ms));
    cli().command({"HSET", qkey("flip"), "f", "v"});
    cli().command({"HSET", mkey("flip"), "f", "v"});
    const auto t0 = clock::now();
    for (auto& c : conns) {
        auto r = c->read_response(8000ms);
        ASSERT_TRUE(r) << "a waiter hung on a key turned to the wrong type";
        EXPECT_EQ(r->status, 502) << r->body;
    }
    EXPECT_LT(clock::now() - t0, 5000ms);
    EXPECT_TRUE(wait_until([&] { return metric("redis_push_queue_waiters") == 0; }, 3000ms));
    EXPECT_TRUE(healthy());
}

// ------------------------------------------------------------ names

TEST_F(queue_hostile, NamesAtAndOverTheLimits) {
    const std::string n200(200, 'n');
    cli().command({"RPUSH", qkey(n200), "at-limit"});
    auto r = http_get(port(), "/queue/" + n200 + "?timeout=0");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "at-limit");
    // Percent-encoded: 600 characters on the wire, 200 decoded.
    std::string enc200;
    for (int i = 0; i < 200; ++i)
        enc200 += "%6E";
    cli().command({"RPUSH", qkey(n200), "encoded"});
    r = http_get(port(), "/queue/" + enc200 + "?timeout=0");
    EXPECT_EQ(r.status, 200) << "the limit applies to the decoded name";
    EXPECT_EQ(r.body, "encoded");
    for (const std::string& seg :
         std::vector<std::string>{std::string(201, 'n'), enc200 + "%6E", std::string(4000, 'n'),
                                  std::string(200, 'n') + "%20"}) {
        for (const std::string& mode : std::vector<std::string>{"queue", "mailbox"}) {
            auto b = http_get(port(), "/" + mode + "/" + seg + "?timeout=0");
            EXPECT_EQ(b.status, 400) << mode << " " << seg.size() << " chars";
            EXPECT_EQ(b.body, R"({"status":"error","error_message":"Invalid name"})");
        }
        EXPECT_EQ(post("/queue/" + seg, "m").status, 400);
        EXPECT_EQ(post("/queue/" + seg + "/ack/abc", "").status, 400) << "ack with an invalid name";
    }
    // Longer than a request head may be: refused or closed, never a crash.
    http_connection c(port());
    ASSERT_TRUE(c.send_request("GET", "/queue/" + std::string(20000, 'n')));
    auto huge = c.read_response(5000ms);
    if (huge) {
        EXPECT_TRUE(huge->status == 414 || huge->status == 431 || huge->status == 400)
            << huge->status;
    } else {
        EXPECT_TRUE(c.peer_closed());
    }
    // Over WebSocket.
    auto w = ws();
    for (const std::string& bad :
         std::vector<std::string>{std::string(201, 'x'), std::string(60000, 'x')}) {
        ASSERT_TRUE(w->send_text(identify(bad)));
        auto f = w->next(5000ms);
        ASSERT_TRUE(f);
        EXPECT_EQ(frame_json(*f), (json{{"event", "error"}, {"error", "Invalid name"}}));
    }
    cli().command({"RPUSH", mkey(std::string(200, 'x')), "ws-at-limit"});
    ASSERT_TRUE(w->send_text(identify(std::string(200, 'x'))));
    auto f = w->next(5000ms);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->payload, "ws-at-limit");
    EXPECT_TRUE(healthy());
}

// ------------------------------------------------------------ identify floods

TEST_F(queue_hostile, FiveThousandIdentifiesOnOneSocket) {
    const double ws_before = metric("redis_push_ws_connections");
    const std::size_t channels_before = keyspace_channels();
    auto c = ws();
    std::string burst;
    for (int i = 0; i < 5000; ++i)
        burst += ws_raw_client::frame(identify("f" + std::to_string(i)));
    std::atomic<bool> done{false};
    std::thread writer([&] {
        c->send_raw(burst);
        done = true;
    });
    bool always_healthy = true;
    while (!done) {
        always_healthy = always_healthy && healthy();
        std::this_thread::sleep_for(20ms);
    }
    writer.join();
    EXPECT_TRUE(always_healthy) << "/healthz stopped answering during the flood";
    auto before = until_probe(*c, 20000ms);
    ASSERT_TRUE(before) << "the socket did not survive the flood";
    EXPECT_TRUE(before->empty()) << before->size() << " frames answered identifies, first: "
                                 << before->front().payload;
    // The socket is the last identity, and only that one.
    cli().command({"RPUSH", mkey("f10"), "old"});
    cli().command({"RPUSH", mkey("f4999"), "latest"});
    auto f = c->next(5000ms);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->payload, "latest");
    auto extra = until_probe(*c);
    ASSERT_TRUE(extra);
    EXPECT_TRUE(extra->empty()) << "an earlier identity is still attached";
    EXPECT_EQ(cli().command({"LLEN", mkey("f10")}).integer, 1);
    EXPECT_TRUE(wait_until([&] { return keyspace_channels() <= channels_before + 2; }, 5000ms))
        << keyspace_channels()
        << " keyspace channels with one socket identified (before: " << channels_before
        << "): the subscriptions of the 4,999 abandoned identities linger";
    c->close();
    EXPECT_TRUE(
        wait_until([&] { return metric("redis_push_ws_connections") == ws_before; }, 5000ms));
    EXPECT_TRUE(wait_until([&] { return keyspace_channels() <= channels_before; }, 5000ms))
        << keyspace_channels() << " keyspace channels, " << channels_before << " before";
    EXPECT_TRUE(healthy());
}

TEST_F(queue_hostile, TwoHundredSocketsIdentifyingOneIdentity) {
    const double ws_before = metric("redis_push_ws_connections");
    const double open_before = metric("redis_push_connections_open");
    const std::size_t channels_before = keyspace_channels();
    constexpr int kSockets = 200;
    std::vector<std::unique_ptr<ws_raw_client>> socks;
    for (int i = 0; i < kSockets; ++i)
        socks.push_back(ws());
    for (auto& s : socks)
        ASSERT_TRUE(s->send_text(identify("same")));
    EXPECT_TRUE(healthy());
    // All but one are replaced, each exactly once.
    std::vector<int> replaced(kSockets, 0);
    int total = 0;
    const auto deadline = clock::now() + 15000ms;
    while (total < kSockets - 1 && clock::now() < deadline) {
        for (int i = 0; i < kSockets; ++i) {
            if (replaced[i])
                continue;
            // (ws_raw_client::next needs a deadline of a few ms to poll at all)
            while (auto f = socks[i]->next(5ms)) {
                EXPECT_EQ(frame_json(*f), (json{{"event", "error"}, {"error", "replaced"}}))
                    << f->payload;
                ++replaced[i];
                ++total;
            }
        }
    }
    ASSERT_EQ(total, kSockets - 1) << "replaced frames";
    const auto winner = std::find(replaced.begin(), replaced.end(), 0) - replaced.begin();
    cli().command({"RPUSH", mkey("same"), "only-one"});
    auto f = socks[winner]->next(5000ms);
    ASSERT_TRUE(f) << "the last identified socket did not get the message";
    EXPECT_EQ(f->payload, "only-one");
    for (int i = 0; i < kSockets; i += 37) {
        if (i == winner)
            continue;
        auto extra = until_probe(*socks[i]);
        ASSERT_TRUE(extra) << "replaced socket " << i << " no longer answers";
        EXPECT_TRUE(extra->empty()) << "replaced socket " << i << " got " << extra->front().payload;
    }
    EXPECT_TRUE(healthy());
    socks.clear();
    EXPECT_TRUE(
        wait_until([&] { return metric("redis_push_ws_connections") == ws_before; }, 10000ms))
        << metric("redis_push_ws_connections");
    EXPECT_TRUE(
        wait_until([&] { return metric("redis_push_connections_open") <= open_before; }, 10000ms))
        << metric("redis_push_connections_open");
    EXPECT_TRUE(wait_until([&] { return keyspace_channels() <= channels_before; }, 10000ms));
    // Back to normal: a new identify works.
    cli().command({"RPUSH", mkey("same"), "after"});
    auto again = ws();
    ASSERT_TRUE(again->send_text(identify("same")));
    auto g = again->next(5000ms);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->payload, "after");
}

TEST_F(queue_hostile, ManySocketsIdentifyingAndVanishingLeaveNothingBehind) {
    const std::size_t channels_before = keyspace_channels();
    const double ws_before = metric("redis_push_ws_connections");
    for (int round = 0; round < 5; ++round) {
        std::vector<std::unique_ptr<ws_raw_client>> socks;
        for (int i = 0; i < 100; ++i) {
            socks.push_back(ws());
            ASSERT_TRUE(socks.back()->send_text(identify("v" + std::to_string(i))));
        }
        for (int i = 0; i < 100; i += 2) {
            linger l{1, 0};
            ::setsockopt(socks[i]->fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
        socks.clear();
    }
    EXPECT_TRUE(
        wait_until([&] { return metric("redis_push_ws_connections") == ws_before; }, 10000ms));
    EXPECT_TRUE(wait_until([&] { return keyspace_channels() <= channels_before; }, 10000ms))
        << keyspace_channels();
    // Nothing was taken for the vanished sockets.
    cli().command({"RPUSH", mkey("v3"), "kept"});
    auto r = http_get(port(), "/mailbox/v3?timeout=2");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"(["kept"])");
    EXPECT_TRUE(healthy());
}

} // namespace
