// Hostile WebSocket clients of the stream mode (MODES.md 4), against the real
// daemon and a real redis-server (see ../integration/README.md): a
// subscriber that never reads, a flood of invalid frames, an oversized
// message, and many subscribe/unsubscribe cycles. Each must end in error
// frames, a close or a drop, never a crash, unbounded memory or a daemon
// that stops answering; what a client held must be released.
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "common.hpp"
#include "ws_raw_client.hpp"

using namespace rpd::test;

namespace {

long rss_kb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return 0;
}

double ms_since(clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
}

json frame_json(const ws_frame& f) {
    return json::parse(f.payload, nullptr, false);
}

class ws_hostile : public daemon_test {
protected:
    json daemon_config() override { return {{"log", {{"level", "info"}}}}; }

    void SetUp() override {
        raise_fd_limit(4096);
        daemon_test::SetUp();
    }

    double metric(const std::string& name) { return daemon().metric(name).value_or(-1); }
    double connections_open() { return metric("redis_push_connections_open"); }

    // The keyspace channels the daemon's subscriber connections hold.
    std::size_t keyspace_channels() { return cli().channels("__keyspace*").size(); }

    // Handshake done and one valid subscribe answered with `subscribed`.
    std::unique_ptr<ws_raw_client> subscriber(const std::string& stream, int so_rcvbuf = 0) {
        auto c = std::make_unique<ws_raw_client>(port(), so_rcvbuf);
        EXPECT_TRUE(c->handshake()) << c->handshake_head();
        EXPECT_TRUE(c->send_text(
            json{{"type", "subscribe"}, {"stream", stream}, {"offset", "$"}, {"id", stream}}
                .dump()));
        const auto f = c->next(5000ms);
        EXPECT_TRUE(f) << "no answer to the subscribe";
        if (f) {
            EXPECT_EQ(frame_json(*f),
                      (json{{"type", "subscribed"}, {"stream", stream}, {"id", stream}}));
        }
        return c;
    }

    void expect_still_serving() {
        ASSERT_TRUE(daemon().running()) << "the daemon died";
        http_response r;
        EXPECT_TRUE(wait_until(
            [&] {
                try {
                    r = http_get(port(), "/healthz", {}, 3000ms);
                    return r.status == 200;
                } catch (const std::exception&) {
                    return false;
                }
            },
            10000ms, 100ms))
            << "/healthz no longer answered (last status " << r.status << ")";
    }
};

// ======================================================= 1. a subscriber that never reads

class WsNonReader : public ws_hostile {
protected:
    json daemon_config() override {
        return {{"http", {{"max_output_bytes", 65536}}}, {"log", {{"level", "info"}}}};
    }
};

// Beyond what the kernel can hold for a client that reads nothing (the
// daemon's send buffer autotunes up to tcp_wmem's maximum).
std::size_t stalled_bytes() {
    std::size_t a = 0, b = 0, max = 0;
    std::istringstream in(read_file("/proc/sys/net/ipv4/tcp_wmem"));
    in >> a >> b >> max;
    return std::max<std::size_t>(4u << 20, max + (1u << 20));
}

TEST_F(WsNonReader, SubscriberThatNeverReadsIsDroppedAndReleased) {
    ASSERT_TRUE(wait_until([&] { return connections_open() <= 1.0; }, 5000ms));
    const double baseline = connections_open();
    const double dropped_before = metric("redis_push_slow_clients_dropped_total");
    const long rss_before = rss_kb(daemon().pid());

    auto c = subscriber("flood", 4096);
    ASSERT_TRUE(wait_until([&] { return keyspace_channels() == 1; }, 5000ms))
        << "the stream's keyspace channel was never subscribed";
    // From here on the client reads nothing.
    const std::string value(2000, 'x');
    const std::size_t n = stalled_bytes() / value.size() + 1000;
    const auto t0 = clock::now();
    for (std::size_t i = 0; i < n; ++i)
        cli().command({"XADD", "RA_S_flood", "*", "v", value});
    std::cerr << "[ measure  ] XADDed " << n << " entries of " << value.size() << " bytes in "
              << ms_since(t0) << " ms\n";

    EXPECT_TRUE(wait_until([&] { return connections_open() <= baseline; }, 15000ms, 50ms))
        << "the non-reading subscriber is still open (connections_open " << connections_open()
        << ")";
    EXPECT_TRUE(wait_until(
        [&] { return metric("redis_push_slow_clients_dropped_total") >= dropped_before + 1; },
        5000ms));
    EXPECT_TRUE(wait_until([&] { return metric("redis_push_ws_connections") == 0; }, 5000ms));
    // Its keyspace channel goes once nobody else needs it (after the linger).
    EXPECT_TRUE(wait_until([&] { return keyspace_channels() == 0; }, 10000ms))
        << keyspace_channels() << " keyspace channel(s) still subscribed";

    // The client can drain what the kernel held, then sees the end.
    ASSERT_TRUE(c->wait_closed(30000ms)) << "no end after " << c->bytes_received() << " bytes";
    EXPECT_LT(c->bytes_received(), n * value.size()) << "everything arrived: not dropped";

    const long rss_after = rss_kb(daemon().pid());
    std::cerr << "[ measure  ] non-reading subscriber: received " << c->bytes_received()
              << " bytes before the drop; daemon RSS " << rss_before << " kB -> " << rss_after
              << " kB\n";
    if (!daemon().sanitized()) {
        EXPECT_LT(rss_after - rss_before, 64 * 1024) << "the drop did not release memory";
    }
    expect_still_serving();
}

// ======================================================= 2. a flood of invalid frames

TEST_F(ws_hostile, FloodOfInvalidFramesGetsErrorFramesAndHealthzIsAnswered) {
    ws_raw_client c(port());
    ASSERT_TRUE(c.handshake()) << c.handshake_head();
    constexpr int flood = 10000;
    std::string bytes;
    for (int i = 0; i < flood; ++i)
        bytes += ws_raw_client::frame(i % 2 == 0 ? "not json" : "{\"type\":");

    std::atomic<int> errors{0}, others{0};
    std::atomic<bool> reading{true};
    std::thread reader([&] {
        const auto deadline = clock::now() + 60s;
        while (errors + others < flood && clock::now() < deadline) {
            const auto f = c.next(1000ms);
            if (!f) {
                if (c.closed())
                    break;
                continue;
            }
            if (f->opcode == 1 && f->payload == R"({"type":"error","error":"Invalid JSON"})")
                ++errors;
            else
                ++others;
        }
        reading = false;
    });

    const auto t0 = clock::now();
    bool sent = false;
    std::thread writer([&] { sent = c.send_raw(bytes); });
    // /healthz while the flood is under way.
    int health = 0;
    double health_ms = 0;
    try {
        const auto r = http_get(port(), "/healthz", {}, 5000ms);
        health = r.status;
        health_ms = ms_since(t0);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "/healthz not answered during the flood: " << e.what();
    }
    const bool still_flooding = reading.load();
    writer.join();
    reader.join();
    const double flood_ms = ms_since(t0);
    std::cerr << "[ measure  ] " << flood << " invalid frames: " << errors << " error frames in "
              << flood_ms << " ms; /healthz " << health << " after " << health_ms << " ms"
              << (still_flooding ? " (during the flood)" : " (the flood was already answered)")
              << "\n";
    EXPECT_TRUE(sent);
    EXPECT_EQ(health, 200);
    EXPECT_EQ(errors.load(), flood);
    EXPECT_EQ(others.load(), 0);

    // The socket stays open and keeps answering.
    ASSERT_TRUE(c.send_text(R"({"type":"unsubscribe","stream":"s","id":1})"));
    const auto f = c.next(5000ms);
    ASSERT_TRUE(f);
    EXPECT_EQ(frame_json(*f), (json{{"type", "error"}, {"error", "not subscribed"}, {"id", 1}}));
    expect_still_serving();
}

// ======================================================= 3. a message over ws.max_message_bytes

class WsSmallMessages : public ws_hostile {
protected:
    json daemon_config() override {
        return {{"ws", {{"max_message_bytes", 1024}, {"ping_seconds", 2}}},
                {"log", {{"level", "info"}}}};
    }
};

TEST_F(WsSmallMessages, MessageAtTheLimitIsAnswered) {
    ws_raw_client c(port());
    ASSERT_TRUE(c.handshake());
    ASSERT_TRUE(c.send_text(std::string(1024, 'x')));
    const auto f = c.next(5000ms);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->payload, R"({"type":"error","error":"Invalid JSON"})");
}

TEST_F(WsSmallMessages, MessageOverTheLimitClosesWith1009) {
    ASSERT_TRUE(wait_until([&] { return connections_open() <= 1.0; }, 5000ms));
    const double baseline = connections_open();
    ws_raw_client c(port());
    ASSERT_TRUE(c.handshake());
    ASSERT_TRUE(
        c.send_text(json{{"type", "subscribe"}, {"stream", std::string(2000, 'a')}}.dump()));
    ASSERT_TRUE(c.wait_closed(10000ms)) << "not closed";
    ASSERT_TRUE(c.close_frame()) << "closed without a close frame";
    EXPECT_EQ(c.close_frame()->close_code(), 1009u);
    c.close(); // a well-behaved client closes its side after the close frame
    EXPECT_TRUE(wait_until([&] { return connections_open() <= baseline; }, 5000ms))
        << "connections_open " << connections_open();
    expect_still_serving();
}

TEST_F(WsSmallMessages, ClientThatNeverClosesAfter1009IsReleasedWithinAPingInterval) {
    ASSERT_TRUE(wait_until([&] { return connections_open() <= 1.0; }, 5000ms));
    const double baseline = connections_open();
    ws_raw_client c(port());
    ASSERT_TRUE(c.handshake());
    ASSERT_TRUE(c.send_text(std::string(5000, 'z')));
    ASSERT_TRUE(c.wait_closed(10000ms)) << "not closed";
    // The daemon half-closed and drains until our EOF, bounded by the
    // handshake timeout (ws.ping_seconds, 2 s here). We keep our side open.
    const auto t0 = clock::now();
    EXPECT_TRUE(wait_until([&] { return connections_open() <= baseline; }, 10000ms))
        << "connections_open " << connections_open();
    std::cerr << "[ measure  ] a client that keeps its side open after a 1009 was released after "
              << ms_since(t0) << " ms\n";
    expect_still_serving();
}

TEST_F(WsSmallMessages, FragmentedMessageOverTheLimitClosesWith1009) {
    ws_raw_client c(port());
    ASSERT_TRUE(c.handshake());
    // 3 x 600 bytes, each frame under the limit, the message over it.
    const std::string part(600, 'y');
    ASSERT_TRUE(c.send_raw(ws_raw_client::frame(part, 1, false) +
                           ws_raw_client::frame(part, 0, false) +
                           ws_raw_client::frame(part, 0, true)));
    ASSERT_TRUE(c.wait_closed(10000ms)) << "not closed";
    ASSERT_TRUE(c.close_frame()) << "closed without a close frame";
    EXPECT_EQ(c.close_frame()->close_code(), 1009u);
    expect_still_serving();
}

TEST_F(WsSmallMessages, HugeDeclaredLengthClosesWith1009WithoutWaitingForTheBytes) {
    ws_raw_client c(port());
    ASSERT_TRUE(c.handshake());
    // A header announcing 2^40 bytes, then nothing.
    std::string h;
    h.push_back(static_cast<char>(0x81));
    h.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i)
        h.push_back(static_cast<char>((std::uint64_t{1} << 40) >> (8 * i) & 0xff));
    h.append("\x01\x02\x03\x04", 4);
    ASSERT_TRUE(c.send_raw(h));
    ASSERT_TRUE(c.wait_closed(10000ms)) << "not closed";
    if (c.close_frame()) {
        EXPECT_EQ(c.close_frame()->close_code(), 1009u);
    }
    expect_still_serving();
}

// ======================================================= 4. subscribe/unsubscribe cycles

TEST_F(ws_hostile, SubscribeUnsubscribeCyclesLeaveNoSubscribersBehind) {
    ASSERT_TRUE(wait_until([&] { return connections_open() <= 1.0; }, 5000ms));
    const double baseline = connections_open();
    ws_raw_client c(port());
    ASSERT_TRUE(c.handshake());
    constexpr int cycles = 300;
    int subscribed = 0, unsubscribed = 0;
    for (int i = 0; i < cycles; ++i) {
        const std::string s = "cyc" + std::to_string(i % 7);
        ASSERT_TRUE(c.send_text(json{{"type", "subscribe"}, {"stream", s}, {"id", i}}.dump()));
        // Half of the time unsubscribe before the subscribe is even answered.
        if (i % 2 == 0) {
            const auto f = c.next(5000ms);
            ASSERT_TRUE(f);
            const auto j = frame_json(*f);
            ASSERT_EQ(j.value("type", ""), "subscribed") << f->payload;
            ++subscribed;
        }
        ASSERT_TRUE(c.send_text(json{{"type", "unsubscribe"}, {"stream", s}, {"id", i}}.dump()));
        for (;;) {
            const auto f = c.next(5000ms);
            ASSERT_TRUE(f) << "no unsubscribed for cycle " << i;
            const auto j = frame_json(*f);
            if (j.value("type", "") == "subscribed")
                continue; // the other half: answered after all, before the unsubscribe
            ASSERT_EQ(j, (json{{"type", "unsubscribed"}, {"stream", s}, {"id", i}})) << f->payload;
            ++unsubscribed;
            break;
        }
    }
    EXPECT_EQ(unsubscribed, cycles);

    // Many clients that subscribe to a few streams and just go away.
    for (int i = 0; i < 100; ++i) {
        ws_raw_client q(port());
        ASSERT_TRUE(q.handshake());
        for (int k = 0; k < 3; ++k)
            ASSERT_TRUE(q.send_text(
                json{{"type", "subscribe"}, {"stream", "gone" + std::to_string((i + k) % 11)}}
                    .dump()));
    }
    c.close();

    EXPECT_TRUE(wait_until([&] { return connections_open() <= baseline; }, 10000ms))
        << "connections_open " << connections_open();
    EXPECT_TRUE(wait_until([&] { return keyspace_channels() == 0; }, 10000ms))
        << keyspace_channels() << " keyspace channel(s) still subscribed";
    if (daemon().metric("redis_push_stream_subscribers")) {
        EXPECT_TRUE(
            wait_until([&] { return metric("redis_push_stream_subscribers") == 0; }, 5000ms));
    }
    EXPECT_EQ(cli().command({"PUBSUB", "NUMPAT"}).integer, 0);
    expect_still_serving();
}

// ======================================================= 5. deeply nested JSON

// The id of a request is echoed in its answer, and nlohmann's serializer
// recurses: a message nested deeper than the daemon's bound
// (util::max_json_depth, 1000) is "Invalid JSON", answered without an id,
// in every build.
TEST_F(ws_hostile, DeeplyNestedIdAtTheDefaultLimitIsAnswered) {
    ws_raw_client c(port());
    ASSERT_TRUE(c.handshake());
    const std::size_t depth = 32000; // within ws.max_message_bytes 65536
    const std::string id = std::string(depth, '[') + std::string(depth, ']');
    ASSERT_TRUE(c.send_text(R"({"type":"nope","id":)" + id + "}"));
    const auto f = c.next(10000ms);
    ASSERT_TRUE(daemon().running()) << "the daemon died (stack overflow?)";
    ASSERT_TRUE(f);
    EXPECT_EQ(f->payload, R"({"type":"error","error":"Invalid JSON"})");
    expect_still_serving();
}

class WsBigMessages : public ws_hostile {
protected:
    json daemon_config() override {
        return {{"ws", {{"max_message_bytes", 1048576}}}, {"log", {{"level", "info"}}}};
    }
};

// With ws.max_message_bytes 1 MiB (allowed up to 16 MiB), one unauthenticated
// message {"type":"x","id":[[[...]]]} 300000 levels deep crashed the daemon
// (stack overflow in nlohmann's recursive serializer echoing the id). Too deep
// a message is now "Invalid JSON".
TEST_F(WsBigMessages, DeeplyNestedIdDoesNotCrashTheDaemon) {
    ws_raw_client c(port());
    ASSERT_TRUE(c.handshake());
    const std::size_t depth = 300000;
    const std::string id = std::string(depth, '[') + std::string(depth, ']');
    ASSERT_TRUE(c.send_text(R"({"type":"nope","id":)" + id + "}"));
    const auto f = c.next(10000ms);
    ASSERT_TRUE(daemon().running()) << "the daemon died: " << tail(daemon().stderr_text(), 2000);
    ASSERT_TRUE(f) << "no answer";
    EXPECT_EQ(f->opcode, 1);
    expect_still_serving();
}

// ======================================================= 6. hostile stream data (HTTP)

class StreamData : public ws_hostile {
protected:
    json daemon_config() override {
        return {{"stream", {{"allow_publish", true}}}, {"log", {{"level", "info"}}}};
    }
    http_response post(const std::string& target, const std::string& body) {
        http_connection c(port());
        EXPECT_TRUE(c.send_request("POST", target, {{"Content-Type", "application/json"}},
                                   "HTTP/1.1", body));
        auto r = c.read_response(5000ms);
        EXPECT_TRUE(r) << "no answer to POST " << target;
        return r ? *r : http_response{};
    }
};

TEST_F(StreamData, PublishedObjectComesBack) {
    const auto r = post("/stream/pub", R"({"a":{"b":[1,2]},"s":"plain"})");
    ASSERT_EQ(r.status, 201) << r.body;
    const auto offset = json::parse(r.body).at("offset").get<std::string>();
    const auto got = http_get(port(), "/stream/pub?after=0&timeout=0");
    ASSERT_EQ(got.status, 200);
    EXPECT_EQ(json::parse(got.body),
              (json::array({{{"offset", offset}, {"a", {{"b", {1, 2}}}}, {"s", "plain"}}})));
    EXPECT_EQ(got.header("X-Stream-Offset").value_or(""), offset);
}

// An empty JSON object has no field, and XADD needs one: it is the client's
// error, not Redis's (it was answered 503 "Redis unavailable").
TEST_F(StreamData, EmptyObjectIsAClientErrorNotRedisUnavailable) {
    const auto r = post("/stream/empty", "{}");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_TRUE(is_error_body(r.body, "Invalid message"));
}

// A producer's value nested 100000 levels deep (200 KB; Redis takes values up
// to 512 MB) crashed the daemon as soon as a client read the stream (stack
// overflow in nlohmann's recursive serializer). It is now sent as a string.
TEST_F(StreamData, DeeplyNestedProducerValueDoesNotCrashTheDaemon) {
    cli().command(
        {"XADD", "RA_S_deep", "*", "v", std::string(100000, '[') + std::string(100000, ']')});
    int status = 0;
    try {
        status = http_get(port(), "/stream/deep?after=0&timeout=0", {}, 10000ms).status;
    } catch (const std::exception& e) {
        ADD_FAILURE() << "no answer: " << e.what();
    }
    EXPECT_TRUE(daemon().running()) << "the daemon died";
    EXPECT_EQ(status, 200);
}

// A value that is JSON followed by a NUL byte and more ("1\0tail") is not
// JSON; nlohmann's lexer stopped at the NUL and the rest was lost. It comes
// as a JSON string, "1\u0000tail" (MODES.md 3).
TEST_F(StreamData, ValueWithANulByteArrivesWhole) {
    const std::string value("1\0tail", 6);
    cli().command({"XADD", "RA_S_nul", "*", "v", value});
    const auto got = http_get(port(), "/stream/nul?after=0&timeout=0");
    ASSERT_EQ(got.status, 200);
    const auto j = json::parse(got.body);
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0]["v"], value) << got.body;
}

} // namespace
