// Resuming and racing (MODES.md 0 keyspace notifications and re-checks; 3
// offsets as the one cursor; 4 "replays and then goes live with no message
// twice and none missing"; 6 stream cursor, keyspace events):
// (a) an SSE subscriber cut again and again while 1,000 XADDs run resumes by
//     Last-Event-ID and gets each message exactly once, in order;
// (b) a Redis restart during a subscription loses nothing written after it;
// (c) replay-then-live with XADDs racing the subscription: nothing twice,
//     nothing missing;
// and the fallback when Redis emits no keyspace notifications.
#include <atomic>
#include <mutex>
#include <random>

#include "streams/stream_common.hpp"

using namespace rpd::test;

namespace {

// XADDs i = 0..n-1 (field "i") from its own thread and Redis connection,
// pausing now and then so that the writes overlap what the test does.
class publisher {
public:
    publisher(const redis_server& redis, std::string stream, int n, int pause_every = 4)
        : client_(redis.client("rpd-it-publisher")), stream_(std::move(stream)), n_(n),
          pause_every_(pause_every) {
        thread_ = std::thread([this] { run(); });
    }
    ~publisher() { join(); }
    void join() {
        if (thread_.joinable())
            thread_.join();
    }
    int written() const { return written_.load(); }
    // Id of message i (once written).
    std::string id(int i) {
        std::lock_guard<std::mutex> l(mu_);
        return ids_.at(i);
    }
    bool wait_written(int n, std::chrono::milliseconds timeout = 20000ms) {
        return wait_until([&] { return written_.load() >= n; }, timeout, 1ms);
    }
    const std::string& error() const { return error_; }

private:
    void run() {
        try {
            for (int i = 0; i < n_; ++i) {
                auto id = xadd(client_, stream_, {{"i", std::to_string(i)}});
                {
                    std::lock_guard<std::mutex> l(mu_);
                    ids_.push_back(id);
                }
                written_.store(i + 1);
                if (pause_every_ > 0 && i % pause_every_ == 0)
                    std::this_thread::sleep_for(1ms);
            }
        } catch (const std::exception& e) {
            error_ = e.what();
        }
    }

    redis_client client_;
    std::string stream_;
    int n_;
    int pause_every_;
    std::mutex mu_;
    std::vector<std::string> ids_;
    std::atomic<int> written_{0};
    std::string error_;
    std::thread thread_;
};

// The "i" values of a list of messages.
std::vector<int> seq_of(const std::vector<json>& msgs) {
    std::vector<int> out;
    for (auto& m : msgs) {
        const json& v = m.contains("i") ? m["i"] : json();
        out.push_back(v.is_number_integer() ? v.get<int>() : -1);
    }
    return out;
}

std::vector<int> range(int from, int to_exclusive) {
    std::vector<int> out;
    for (int i = from; i < to_exclusive; ++i)
        out.push_back(i);
    return out;
}

// Where a sequence first differs from from..to-1 (for a short message).
std::string first_difference(const std::vector<int>& got, int from, int to) {
    const auto want = range(from, to);
    for (std::size_t k = 0; k < std::max(got.size(), want.size()); ++k) {
        if (k >= got.size())
            return "missing from index " + std::to_string(k) + " (want " + std::to_string(want[k]) +
                   "), got " + std::to_string(got.size()) + " messages";
        if (k >= want.size())
            return "extra message " + std::to_string(got[k]) + " at index " + std::to_string(k);
        if (got[k] != want[k])
            return "index " + std::to_string(k) + ": got " + std::to_string(got[k]) + ", want " +
                   std::to_string(want[k]);
    }
    return "equal";
}

std::vector<json> ws_messages(const std::vector<json>& log, const std::string& stream) {
    std::vector<json> out;
    for (auto& f : log)
        if (f.value("type", "") == "messages" && f.value("stream", "") == stream)
            for (auto& m : f["messages"])
                out.push_back(m);
    return out;
}

bool ws_wait_count(ws_client& ws, const std::string& stream, std::size_t n,
                   std::chrono::milliseconds timeout) {
    if (ws_messages(ws.log(), stream).size() >= n)
        return true;
    return ws
        .read_until([&](const json&) { return ws_messages(ws.log(), stream).size() >= n; }, timeout)
        .has_value();
}

class StreamResume : public stream_test {};

// ------------------------------------------------------------ (a)

TEST_F(StreamResume, LastEventIdResumeAcrossCutsWhile1000XaddsRun) {
    constexpr int kTotal = 1000;
    std::mt19937 rng(12345);
    std::vector<json> got;
    std::string last_id;
    int cuts = 0;
    publisher pub(redis(), "cut", kTotal);
    const auto deadline = clock::now() + 60s;
    while (static_cast<int>(got.size()) < kTotal && clock::now() < deadline) {
        header_list h;
        if (!last_id.empty())
            h.emplace_back("Last-Event-ID", last_id);
        stream_sse s(port(), "cut", last_id.empty() ? "?after=0" : "", h);
        ASSERT_TRUE(s.wait_stream()) << s.describe();
        // Take a random number of messages, then cut the connection (not
        // at an event boundary necessarily: whatever arrived is kept only
        // as complete events).
        const std::size_t want = std::uniform_int_distribution<std::size_t>(1, 120)(rng);
        s.wait_messages(std::min<std::size_t>(want, kTotal - got.size()), 10000ms);
        for (auto& u : s.messages()) {
            got.push_back(parse_or_null(u.data()));
            last_id = u.field("id").value_or("");
            EXPECT_EQ(got.back().value("offset", ""), last_id);
        }
        for (auto& e : s.events())
            EXPECT_NE(e.event(), "gap") << "no trimming here, so no gap";
        s.close();
        ++cuts;
    }
    pub.join();
    EXPECT_TRUE(pub.error().empty()) << pub.error();
    const auto seq = seq_of(got);
    EXPECT_EQ(seq, range(0, kTotal))
        << first_difference(seq, 0, kTotal) << " after " << cuts << " connections";
    EXPECT_GT(cuts, 5);
}

// ------------------------------------------------------------ (b)

class StreamResumeRedisRestartAof : public stream_test {
protected:
    void SetUp() override {
        redis_server::options o;
        o.extra_args = {"--appendonly", "yes", "--appendfsync", "always"};
        redis_ = std::make_unique<redis_server>(o);
        cli_ = std::make_unique<redis_client>(redis_->client());
        daemon_ = std::make_unique<daemon_process>(redis_->port(), daemon_config());
    }
};

// Subscribes with offset 0 to "rr" holding i = 0..4, restarts Redis (AOF
// keeps the 5), XADDs i = 5..24 and checks 0..25 arrive once each.
TEST_F(StreamResumeRedisRestartAof, SseLosesNothingAndRepeatsNothingAcrossARedisRestart) {
    for (int i = 0; i < 5; ++i)
        add("rr", {{"i", std::to_string(i)}});
    stream_sse s(port(), "rr", "?after=0");
    ASSERT_TRUE(s.wait_messages(5)) << s.describe();

    redis().restart(); // SIGKILL, then the same port; the AOF brings the 5 back
    cli_ = std::make_unique<redis_client>(redis().client());
    ASSERT_EQ(xlen(cli(), "rr"), 5) << "the AOF did not keep the stream";
    for (int i = 5; i < 25; ++i)
        add("rr", {{"i", std::to_string(i)}});

    EXPECT_TRUE(s.wait_messages(25, 20000ms)) << s.describe();
    const auto seq = seq_of(s.message_data());
    EXPECT_EQ(seq, range(0, 25)) << first_difference(seq, 0, 25);
    EXPECT_FALSE(s.conn().body_complete()) << "the event stream ended with the restart";
    // Live again, not only re-checked once.
    add("rr", {{"i", "25"}});
    EXPECT_TRUE(s.wait_messages(26, 10000ms)) << s.describe();
    EXPECT_EQ(seq_of(s.message_data()), range(0, 26));
}

TEST_F(StreamResumeRedisRestartAof, WebSocketLosesNothingAndRepeatsNothingAcrossARedisRestart) {
    for (int i = 0; i < 5; ++i)
        add("rr", {{"i", std::to_string(i)}});
    auto ws = connect_ws();
    ASSERT_TRUE(ws->send_json({{"type", "subscribe"}, {"stream", "rr"}, {"offset", "0"}}));
    ASSERT_TRUE(ws_wait_count(*ws, "rr", 5, 5000ms)) << ws->describe();

    redis().restart();
    cli_ = std::make_unique<redis_client>(redis().client());
    ASSERT_EQ(xlen(cli(), "rr"), 5) << "the AOF did not keep the stream";
    for (int i = 5; i < 25; ++i)
        add("rr", {{"i", std::to_string(i)}});

    EXPECT_TRUE(ws_wait_count(*ws, "rr", 25, 20000ms)) << ws->describe();
    const auto seq = seq_of(ws_messages(ws->log(), "rr"));
    EXPECT_EQ(seq, range(0, 25)) << first_difference(seq, 0, 25);
    EXPECT_FALSE(ws->closed()) << ws->describe();
    add("rr", {{"i", "25"}});
    EXPECT_TRUE(ws_wait_count(*ws, "rr", 26, 10000ms)) << ws->describe();
}

TEST_F(StreamResumeRedisRestartAof, KeyspaceFlagsAreSetAgainAfterARestart) {
    const auto flags_ok = [&] {
        try {
            const auto f = config_get(cli(), "notify-keyspace-events");
            return contains(f, "K") && (contains(f, "t") || contains(f, "A"));
        } catch (const std::exception&) {
            return false;
        }
    };
    ASSERT_TRUE(wait_until(flags_ok, 5000ms)) << "redis.keyspace_events auto did not add K and t: `"
                                              << config_get(cli(), "notify-keyspace-events") << "`";
    redis().restart();
    cli_ = std::make_unique<redis_client>(redis().client());
    EXPECT_EQ(config_get(cli(), "notify-keyspace-events"), "") << "a fresh Redis forgot CONFIG SET";
    EXPECT_TRUE(wait_until(flags_ok, 15000ms, 50ms))
        << "the flags were not added again after the reconnect: `"
        << config_get(cli(), "notify-keyspace-events") << "`";
}

class StreamResumeRedisRestart : public stream_test {};

TEST_F(StreamResumeRedisRestart, MessagesWrittenAfterARestartWithoutPersistenceArrive) {
    std::vector<std::string> before;
    for (int i = 0; i < 3; ++i)
        before.push_back(add("np", {{"i", std::to_string(i)}}));
    stream_sse s(port(), "np", "?after=0");
    ASSERT_TRUE(s.wait_messages(3)) << s.describe();
    stream_poll p(port(), "/stream/np?after=" + before[2] + "&timeout=60");
    ASSERT_TRUE(wait_watched("np"));

    redis().restart(); // no persistence: the stream is gone
    cli_ = std::make_unique<redis_client>(redis().client());
    ASSERT_EQ(cli().command({"EXISTS", skey("np")}).integer, 0);
    std::vector<std::string> after;
    for (int i = 3; i < 13; ++i)
        after.push_back(add("np", {{"i", std::to_string(i)}}));
    ASSERT_TRUE(id_less(before[2], after[0])) << "clock went backwards?";

    EXPECT_TRUE(s.wait_messages(13, 20000ms)) << s.describe();
    const auto seq = seq_of(s.message_data());
    EXPECT_EQ(seq, range(0, 13)) << first_difference(seq, 0, 13);
    auto r = p.wait(20000ms);
    ASSERT_TRUE(r) << "the long-poll waiting across the restart was not answered";
    // A long-poll may be answered 503 while Redis is down; when it waited
    // through, it gets the first message written after the restart.
    if (r->status != 503) {
        EXPECT_EQ(r->status, 200) << r->body;
        const auto got = parse_or_null(r->body);
        ASSERT_TRUE(got.is_array() && !got.empty()) << r->body;
        EXPECT_EQ(got[0]["offset"], after[0]);
    }
}

// ------------------------------------------------------------ (c)

bool sse_until_last(stream_sse& s, int last, std::chrono::milliseconds timeout) {
    return s.read_until(
        [&](const sse_parse& p) {
            auto ms = stream_sse::message_events(p);
            return !ms.empty() && parse_or_null(ms.back().data()).value("i", json()) == last;
        },
        timeout);
}

bool ws_until_last(ws_client& ws, const std::string& stream, int last,
                   std::chrono::milliseconds timeout) {
    const auto reached = [&] {
        auto m = ws_messages(ws.log(), stream);
        return !m.empty() && m.back().value("i", json()) == last;
    };
    return reached() || ws.read_until([&](const json&) { return reached(); }, timeout).has_value();
}

TEST_F(StreamResume, SseAndLongPollReplayThenLiveWhileXaddsRace) {
    constexpr int kTotal = 2000;
    publisher pub(redis(), "race", kTotal, 2);
    ASSERT_TRUE(pub.wait_written(300));

    // Subscribers joining while the writes go on, each with an offset.
    stream_sse sse0(port(), "race", "?after=0");
    const std::string id200 = pub.id(200);
    stream_sse sse200(port(), "race", "", {{"Last-Event-ID", id200}});
    const std::string id250 = pub.id(250);
    stream_sse sse250(port(), "race", "?after=" + id250);

    // A long-poll client that always continues from X-Stream-Offset.
    std::vector<json> polled;
    std::string poll_error;
    std::thread poller([&] {
        try {
            std::string cursor = pub.id(50);
            const auto deadline = clock::now() + 60s;
            while (static_cast<int>(polled.size()) < kTotal - 51 && clock::now() < deadline) {
                auto r = http_get(port(), "/stream/race?after=" + cursor + "&count=37&timeout=5",
                                  {}, 10000ms);
                if (r.status != 200) {
                    poll_error = "status " + std::to_string(r.status) + " " + r.body;
                    return;
                }
                for (auto& m : json::parse(r.body))
                    polled.push_back(m);
                cursor = r.header("X-Stream-Offset").value_or("");
                if (cursor.empty()) {
                    poll_error = "no X-Stream-Offset";
                    return;
                }
            }
        } catch (const std::exception& e) {
            poll_error = e.what();
        }
    });

    const bool a0 = sse_until_last(sse0, kTotal - 1, 60000ms);
    const bool a200 = sse_until_last(sse200, kTotal - 1, 60000ms);
    const bool a250 = sse_until_last(sse250, kTotal - 1, 60000ms);
    pub.join();
    poller.join();
    EXPECT_TRUE(pub.error().empty()) << pub.error();
    EXPECT_TRUE(a0) << sse0.describe();
    EXPECT_TRUE(a200) << sse200.describe();
    EXPECT_TRUE(a250) << sse250.describe();

    const auto z = seq_of(sse0.message_data());
    EXPECT_EQ(z, range(0, kTotal)) << "SSE after 0: " << first_difference(z, 0, kTotal);
    const auto c = seq_of(sse200.message_data());
    EXPECT_EQ(c, range(201, kTotal))
        << "SSE Last-Event-ID 200: " << first_difference(c, 201, kTotal);
    const auto d = seq_of(sse250.message_data());
    EXPECT_EQ(d, range(251, kTotal)) << "SSE after 250: " << first_difference(d, 251, kTotal);
    EXPECT_TRUE(poll_error.empty()) << poll_error;
    const auto e = seq_of(polled);
    EXPECT_EQ(e, range(51, kTotal)) << "long-poll cursor: " << first_difference(e, 51, kTotal);
}

TEST_F(StreamResume, WebSocketReplayThenLiveWhileXaddsRace) {
    constexpr int kTotal = 2000;
    publisher pub(redis(), "race", kTotal, 2);
    ASSERT_TRUE(pub.wait_written(300));
    auto ws0 = connect_ws();
    ASSERT_TRUE(ws0->send_json({{"type", "subscribe"}, {"stream", "race"}, {"offset", "0"}}));
    const std::string id100 = pub.id(100);
    auto ws100 = connect_ws();
    ASSERT_TRUE(ws100->send_json({{"type", "subscribe"}, {"stream", "race"}, {"offset", id100}}));
    // Two streams on one socket, one of them subscribed mid-way.
    ASSERT_TRUE(pub.wait_written(700));
    ASSERT_TRUE(ws100->send_json({{"type", "subscribe"}, {"stream", "race2"}, {"offset", "0"}}));

    const bool w0 = ws_until_last(*ws0, "race", kTotal - 1, 60000ms);
    const bool w100 = ws_until_last(*ws100, "race", kTotal - 1, 60000ms);
    pub.join();
    EXPECT_TRUE(pub.error().empty()) << pub.error();
    ASSERT_TRUE(w0) << ws0->describe();
    ASSERT_TRUE(w100) << ws100->describe();
    const auto a = seq_of(ws_messages(ws0->log(), "race"));
    EXPECT_EQ(a, range(0, kTotal)) << "ws offset 0: " << first_difference(a, 0, kTotal);
    const auto b = seq_of(ws_messages(ws100->log(), "race"));
    EXPECT_EQ(b, range(101, kTotal)) << "ws offset 100: " << first_difference(b, 101, kTotal);
    EXPECT_TRUE(ws_messages(ws100->log(), "race2").empty());
}

// With offset $ the first message is whatever came after the subscription;
// from there on the sequence must have no hole.
::testing::AssertionResult contiguous_to(const std::vector<int>& seq, int lowest_first, int total) {
    if (seq.empty())
        return ::testing::AssertionFailure() << "no message";
    if (seq.front() < lowest_first)
        return ::testing::AssertionFailure()
               << "message " << seq.front() << " from before the subscription was replayed";
    if (seq != range(seq.front(), total))
        return ::testing::AssertionFailure() << first_difference(seq, seq.front(), total);
    return ::testing::AssertionSuccess();
}

TEST_F(StreamResume, SseDollarSubscriptionRacingXaddsMissesNothingAfterItStarts) {
    constexpr int kTotal = 1500;
    publisher pub(redis(), "dollar", kTotal, 2);
    ASSERT_TRUE(pub.wait_written(200));
    stream_sse s(port(), "dollar");
    ASSERT_TRUE(s.wait_stream());
    ASSERT_TRUE(sse_until_last(s, kTotal - 1, 60000ms)) << s.describe();
    pub.join();
    EXPECT_TRUE(contiguous_to(seq_of(s.message_data()), 199, kTotal));
}

TEST_F(StreamResume, WebSocketDollarSubscriptionRacingXaddsMissesNothingAfterItStarts) {
    constexpr int kTotal = 1500;
    publisher pub(redis(), "dollar", kTotal, 2);
    ASSERT_TRUE(pub.wait_written(200));
    auto ws = connect_ws();
    ASSERT_TRUE(ws->send_json({{"type", "subscribe"}, {"stream", "dollar"}}));
    ASSERT_TRUE(ws_until_last(*ws, "dollar", kTotal - 1, 60000ms)) << ws->describe();
    pub.join();
    EXPECT_TRUE(contiguous_to(seq_of(ws_messages(ws->log(), "dollar")), 199, kTotal));
}

// ------------------------------------------------------------ fallback

class StreamResumeNoNotifications : public stream_test {
    json extra_config() override {
        return {{"redis", {{"keyspace_events", "off"}}}, {"modes", {{"recheck_ms", 100}}}};
    }
};

TEST_F(StreamResumeNoNotifications, LongPollAndSseStillGetMessagesByReChecking) {
    ASSERT_EQ(config_get(cli(), "notify-keyspace-events"), "");
    const auto first = add("fb", {{"i", "0"}});
    stream_poll p(port(), "/stream/fb?after=" + first + "&timeout=30");
    stream_sse s(port(), "fb", "?after=" + first);
    ASSERT_TRUE(s.wait_stream());

    const auto id = add("fb", {{"i", "1"}});
    // recheck_ms is 100: well within 3 s, and far before the 30 s timeout.
    auto r = p.wait(3000ms);
    ASSERT_TRUE(r) << "the long-poll was not answered by a re-check";
    EXPECT_EQ(offsets_of(parse_or_null(r->body)), std::vector<std::string>{id});
    EXPECT_TRUE(s.wait_messages(1, 3000ms)) << s.describe();
    EXPECT_EQ(config_get(cli(), "notify-keyspace-events"), "")
        << "keyspace_events off must leave Redis's setting alone";
    // And again (the re-check goes on).
    add("fb", {{"i", "2"}});
    EXPECT_TRUE(s.wait_messages(2, 3000ms)) << s.describe();
    stream_poll p2(port(), "/stream/fb?after=" + id + "&timeout=30");
    auto r2 = p2.wait(3000ms);
    ASSERT_TRUE(r2);
    EXPECT_EQ(seq_of(parse_or_null(r2->body)), std::vector<int>{2});
    // And for a wait that starts before the message.
    const auto last = add("fb", {{"i", "3"}});
    stream_poll p3(port(), "/stream/fb?after=" + last + "&timeout=30");
    add("fb", {{"i", "4"}});
    auto r3 = p3.wait(3000ms);
    ASSERT_TRUE(r3);
    EXPECT_EQ(seq_of(parse_or_null(r3->body)), std::vector<int>{4});
}

TEST_F(StreamResumeNoNotifications, WebSocketStillGetsMessagesByReChecking) {
    const auto first = add("fw", {{"i", "0"}});
    auto ws = connect_ws();
    ASSERT_TRUE(ws->send_json({{"type", "subscribe"}, {"stream", "fw"}, {"offset", first}}));
    ASSERT_TRUE(ws->read_until([](const json& f) { return f.value("type", "") == "subscribed"; }))
        << ws->describe();
    add("fw", {{"i", "1"}});
    EXPECT_TRUE(ws_wait_count(*ws, "fw", 1, 3000ms)) << ws->describe();
    add("fw", {{"i", "2"}});
    EXPECT_TRUE(ws_wait_count(*ws, "fw", 2, 3000ms)) << ws->describe();
    EXPECT_EQ(seq_of(ws_messages(ws->log(), "fw")), (std::vector<int>{1, 2}));
}

class StreamResumeAuto : public stream_test {
    json extra_config() override { return {{"modes", {{"recheck_ms", 100}}}}; }
};

TEST_F(StreamResumeAuto, AutoAddsTheFlagsAndAMissedNotificationIsReChecked) {
    ASSERT_TRUE(wait_until(
        [&] {
            const auto f = config_get(cli(), "notify-keyspace-events");
            return contains(f, "K") && (contains(f, "t") || contains(f, "A"));
        },
        5000ms))
        << "`" << config_get(cli(), "notify-keyspace-events") << "`";
    stream_sse s(port(), "miss");
    ASSERT_TRUE(s.wait_stream());
    ASSERT_TRUE(wait_watched("miss"));
    // Notifications silently switched off behind the daemon's back.
    cli().command({"CONFIG", "SET", "notify-keyspace-events", ""});
    const auto id = add("miss", {{"x", "1"}});
    ASSERT_TRUE(s.wait_messages(1, 3000ms)) << s.describe();
    EXPECT_EQ(s.messages()[0].field("id").value_or(""), id);
}

} // namespace
