// Streams over SSE (MODES.md 3 "SSE", "Gap"; 0 no polling per client; 6
// parameters, gap): `GET /stream/<name>` with `Accept: text/event-stream`
// (or `?sse`): retry first, then `id: <offset>` / `event: message` /
// `data: <message JSON>` per message, `:` keepalives, resume after
// Last-Event-ID or ?after=, never ends by itself.
#include "streams/stream_common.hpp"

using namespace rpd::test;

namespace {

class StreamSse : public stream_test {};

::testing::AssertionResult framing_ok(const stream_sse& s) {
    const auto p = s.parsed();
    if (p.error.empty())
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << s.describe();
}

// One message event exactly: fields id, event, data (once each, in that
// order), id = the offset, data = the message JSON.
::testing::AssertionResult is_message_event(const sse_unit& u, const json& want) {
    std::vector<std::string> names;
    for (auto& [k, v] : u.fields)
        names.push_back(k);
    if (names != std::vector<std::string>{"id", "event", "data"})
        return ::testing::AssertionFailure()
               << "fields are not id, event, data: `" << visible(u.raw) << "`";
    if (u.event() != "message")
        return ::testing::AssertionFailure() << "event is `" << u.event() << "`";
    if (u.field("id") != want.value("offset", std::string()))
        return ::testing::AssertionFailure()
               << "id `" << u.field("id").value_or("") << "`, want " << want["offset"];
    const json got = parse_or_null(u.data());
    if (got != want)
        return ::testing::AssertionFailure() << "data " << u.data() << ", want " << want.dump();
    return ::testing::AssertionSuccess();
}

TEST_F(StreamSse, HeadRetryFirstThenMessages) {
    stream_sse s(port(), "news");
    ASSERT_TRUE(s.wait_stream()) << s.describe();
    const auto& r = s.response();
    EXPECT_EQ(r.header("Content-Type").value_or(""), "text/event-stream");
    EXPECT_TRUE(has_no_store(r));
    EXPECT_TRUE(has_x_accel_no(r));
    EXPECT_TRUE(r.chunked);
    ASSERT_TRUE(s.read_until([](const sse_parse& p) { return !p.units.empty(); }, 5000ms))
        << s.describe();
    EXPECT_EQ(s.parsed().units[0].raw, "retry: 3000\n\n")
        << "the stream starts with retry: <sse.retry_ms> (default 3000)";
    EXPECT_EQ(s.body().rfind("retry: 3000\n\n", 0), 0u) << s.describe();

    ASSERT_TRUE(wait_watched("news"));
    const auto a = add("news", {{"t", "a"}, {"n", "1"}});
    const auto b = add("news", {{"t", "b"}, {"o", R"({"k":true})"}});
    ASSERT_TRUE(s.wait_messages(2)) << s.describe();
    const auto ms = s.messages();
    EXPECT_TRUE(is_message_event(ms[0], {{"offset", a}, {"t", "a"}, {"n", 1}}));
    EXPECT_TRUE(is_message_event(ms[1], {{"offset", b}, {"t", "b"}, {"o", {{"k", true}}}}));
    EXPECT_TRUE(framing_ok(s));
    EXPECT_FALSE(s.conn().body_complete());
}

TEST_F(StreamSse, WithoutACursorOnlyNewMessagesAreSent) {
    add("fresh", {{"x", "old1"}});
    add("fresh", {{"x", "old2"}});
    stream_sse s(port(), "fresh");
    ASSERT_TRUE(s.wait_stream()) << s.describe();
    ASSERT_TRUE(wait_watched("fresh"));
    const auto id = add("fresh", {{"x", "new"}});
    ASSERT_TRUE(s.wait_messages(1)) << s.describe();
    const auto data = s.message_data();
    ASSERT_GE(data.size(), 1u);
    EXPECT_EQ(data[0], (json{{"offset", id}, {"x", "new"}})) << s.describe();
    EXPECT_EQ(data.size(), 1u) << s.describe();
}

TEST_F(StreamSse, QuerySseWithoutAcceptIsAnEventStream) {
    const auto id = add("q", {{"x", "1"}});
    stream_sse s(port(), "q", "?sse&after=0", {}, /*accept_header=*/false);
    ASSERT_TRUE(s.wait_stream()) << s.describe();
    ASSERT_TRUE(s.wait_messages(1)) << s.describe();
    EXPECT_TRUE(is_message_event(s.messages()[0], {{"offset", id}, {"x", 1}}));
}

TEST_F(StreamSse, LastEventIdResumesAfterThatOffset) {
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i)
        ids.push_back(add("res", {{"i", std::to_string(i)}}));
    stream_sse s(port(), "res", "", {{"Last-Event-ID", ids[1]}});
    ASSERT_TRUE(s.wait_stream()) << s.describe();
    ASSERT_TRUE(s.wait_messages(3)) << s.describe();
    const auto live = add("res", {{"i", "5"}});
    ASSERT_TRUE(s.wait_messages(4)) << s.describe();
    std::vector<std::string> got;
    for (auto& u : s.messages())
        got.push_back(u.field("id").value_or(""));
    EXPECT_EQ(got, (std::vector<std::string>{ids[2], ids[3], ids[4], live})) << s.describe();
    EXPECT_TRUE(framing_ok(s));
}

TEST_F(StreamSse, AfterQueryResumesToo) {
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i)
        ids.push_back(add("resq", {{"i", std::to_string(i)}}));
    stream_sse s(port(), "resq", "?after=" + ids[0]);
    ASSERT_TRUE(s.wait_messages(3)) << s.describe();
    std::vector<std::string> got;
    for (auto& u : s.messages())
        got.push_back(u.field("id").value_or(""));
    EXPECT_EQ(got, (std::vector<std::string>{ids[1], ids[2], ids[3]}));

    stream_sse all(port(), "resq", "?after=0");
    ASSERT_TRUE(all.wait_messages(4)) << all.describe();
    EXPECT_EQ(all.messages()[0].field("id").value_or(""), ids[0]);
    for (auto& u : all.events())
        EXPECT_NE(u.event(), "gap") << "after=0 is never a gap";
}

TEST_F(StreamSse, ABadLastEventIdIs400BeforeTheStream) {
    for (const std::string bad : {"abc", "1-2-3", "-1", "1.5"}) {
        stream_sse s(port(), "bad", "", {{"Last-Event-ID", bad}});
        ASSERT_TRUE(s.wait_head()) << bad;
        ASSERT_TRUE(s.conn().read_body(3000ms)) << bad;
        EXPECT_EQ(s.response().status, 400) << bad << ": " << s.body();
        EXPECT_TRUE(is_error_body(s.body(), "Invalid parameter")) << bad;
    }
    stream_sse q(port(), "bad", "?after=zz");
    ASSERT_TRUE(q.wait_head());
    ASSERT_TRUE(q.conn().read_body(3000ms));
    EXPECT_EQ(q.response().status, 400);
    EXPECT_TRUE(is_error_body(q.body(), "Invalid parameter"));
}

TEST_F(StreamSse, ErrorsBeforeTheStreamAreJsonAnswers) {
    cli().set(skey("wt"), "x");
    stream_sse s(port(), "wt", "?after=0");
    ASSERT_TRUE(s.wait_head());
    ASSERT_TRUE(s.conn().read_body(3000ms));
    EXPECT_EQ(s.response().status, 502) << s.body();
    EXPECT_TRUE(is_error_body(s.body(), "Wrong type of Redis key"));

    stream_sse n(port(), "a%20b");
    ASSERT_TRUE(n.wait_head());
    ASSERT_TRUE(n.conn().read_body(3000ms));
    EXPECT_EQ(n.response().status, 400);
    EXPECT_TRUE(is_error_body(n.body(), "Invalid name"));
}

TEST_F(StreamSse, GapEventComesBeforeTheMessages) {
    std::vector<std::string> ids;
    for (int i = 0; i < 8; ++i)
        ids.push_back(xadd(cli(), "gs", {{"i", std::to_string(i)}}, "*", 3));
    // ids[0..4] trimmed; ids[5..7] left.
    stream_sse s(port(), "gs", "", {{"Last-Event-ID", ids[1]}});
    ASSERT_TRUE(s.wait_stream()) << s.describe();
    ASSERT_TRUE(s.wait_messages(3)) << s.describe();
    const auto evs = s.events();
    ASSERT_GE(evs.size(), 4u) << s.describe();
    EXPECT_EQ(evs[0].event(), "gap") << s.describe();
    EXPECT_EQ(parse_or_null(evs[0].data()), (json{{"first", ids[5]}})) << s.describe();
    EXPECT_EQ(evs[1].field("id").value_or(""), ids[5]);
    EXPECT_EQ(evs[3].field("id").value_or(""), ids[7]);
    EXPECT_TRUE(framing_ok(s));

    stream_sse q(port(), "gs", "?after=" + ids[0]);
    ASSERT_TRUE(q.wait_messages(3)) << q.describe();
    EXPECT_EQ(q.events()[0].event(), "gap") << q.describe();
}

class StreamSseTuned : public stream_test {
    json extra_config() override {
        return {{"sse", {{"retry_ms", 1234}, {"keepalive_seconds", 1}}},
                {"stream", {{"timeout_seconds", 1}}}};
    }
};

TEST_F(StreamSseTuned, RetryAndKeepalivesFollowTheConfig) {
    stream_sse s(port(), "ka");
    ASSERT_TRUE(s.wait_stream()) << s.describe();
    ASSERT_TRUE(s.wait_comments(2, 6000ms)) << "no `:` keepalive every sse.keepalive_seconds (1)\n"
                                            << s.describe();
    const auto p = s.parsed();
    EXPECT_EQ(p.units[0].raw, "retry: 1234\n\n");
    for (auto& u : p.units) {
        if (u.type == sse_unit::kind::comment) {
            EXPECT_EQ(u.raw, ":\n");
        }
    }
    EXPECT_TRUE(framing_ok(s));
}

TEST_F(StreamSseTuned, TheStreamNeverEndsByItself) {
    // stream.timeout_seconds is 1: a long-poll would have ended long before
    // three keepalives; the event stream goes on.
    stream_sse s(port(), "forever");
    ASSERT_TRUE(s.wait_stream()) << s.describe();
    ASSERT_TRUE(s.wait_comments(3, 8000ms)) << s.describe();
    EXPECT_FALSE(s.conn().body_complete()) << s.describe();
    EXPECT_FALSE(s.conn().peer_closed());
    const auto id = add("forever", {{"x", "late"}});
    ASSERT_TRUE(s.wait_messages(1)) << s.describe();
    EXPECT_EQ(s.messages()[0].field("id").value_or(""), id);
    EXPECT_TRUE(framing_ok(s));
}

// ------------------------------------------------------------ sharing

class StreamSseFan : public stream_test {
    // No periodic re-check inside the measurement window.
    json extra_config() override { return {{"modes", {{"recheck_ms", 60000}}}}; }
};

TEST_F(StreamSseFan, HundredSubscribersCauseOneReadPerNotification) {
    raise_fd_limit(4096);
    std::vector<std::unique_ptr<stream_sse>> subs;
    for (int i = 0; i < 100; ++i) {
        subs.push_back(std::make_unique<stream_sse>(port(), "fan"));
    }
    for (auto& s : subs)
        ASSERT_TRUE(s->wait_stream()) << s->describe();
    ASSERT_TRUE(wait_watched("fan"));
    wait_reads_settled();

    constexpr int kMessages = 5;
    const long long before = stream_read_calls(cli());
    for (int m = 0; m < kMessages; ++m) {
        add("fan", {{"m", std::to_string(m)}});
        for (auto& s : subs)
            ASSERT_TRUE(s->wait_messages(m + 1, 5000ms)) << s->describe();
    }
    const long long reads = stream_read_calls(cli()) - before;
    EXPECT_LE(reads, kMessages + 1)
        << "100 SSE subscribers of one stream caused " << reads << " XREAD/XRANGE calls for "
        << kMessages << " XADDs (one per notification expected, not 100)";
    for (auto& s : subs) {
        auto d = s->message_data();
        ASSERT_EQ(d.size(), static_cast<std::size_t>(kMessages));
        for (int m = 0; m < kMessages; ++m)
            EXPECT_EQ(d[m].value("m", -1), m);
    }
}

TEST_F(StreamSseFan, RedisConnectionsDoNotGrowWith200Subscribers) {
    raise_fd_limit(4096);
    // Warm up every path once (a subscription, a long-poll, a read).
    {
        stream_sse warm(port(), "warm");
        ASSERT_TRUE(warm.wait_stream());
        get("/stream/warm?after=0&timeout=0");
    }
    const std::size_t before = cli().foreign_client_count();
    std::vector<std::unique_ptr<stream_sse>> subs;
    for (int i = 0; i < 200; ++i)
        subs.push_back(std::make_unique<stream_sse>(port(), "conn" + std::to_string(i)));
    for (auto& s : subs)
        ASSERT_TRUE(s->wait_stream()) << s->describe();
    ASSERT_TRUE(wait_watched("conn0"));
    ASSERT_TRUE(wait_watched("conn199"));
    // Each of the 200 streams is live.
    add("conn0", {{"x", "1"}});
    add("conn199", {{"x", "1"}});
    ASSERT_TRUE(subs[0]->wait_messages(1));
    ASSERT_TRUE(subs[199]->wait_messages(1));
    const std::size_t after = cli().foreign_client_count();
    EXPECT_LE(after, before) << "Redis connections grew from " << before << " to " << after
                             << " with 200 subscribers:\n"
                             << cli().client_list();
    EXPECT_LE(after, 4u + 2u) << "more than subscriber_connections (4) + command + one:\n"
                              << cli().client_list();
}

} // namespace
