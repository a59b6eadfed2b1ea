// Streams over WebSocket (MODES.md 4; 6 "WebSocket", parameters, names):
// subscribe / subscribed / messages (replay, then live), unsubscribe,
// publish, groups and ack, error frames, limits, Origin, 426, shutdown.
#include <csignal>

#include "streams/stream_common.hpp"

using namespace rpd::test;

namespace {

// Messages of `stream` in every "messages" frame of the log, in order.
std::vector<json> messages_in(const std::vector<json>& log, const std::string& stream) {
    std::vector<json> out;
    for (auto& f : log)
        if (f.value("type", "") == "messages" && f.value("stream", "") == stream &&
            f.contains("messages") && f["messages"].is_array())
            for (auto& m : f["messages"])
                out.push_back(m);
    return out;
}

// Reads until `n` messages of `stream` arrived in total.
bool wait_ws_messages(ws_client& ws, const std::string& stream, std::size_t n,
                      std::chrono::milliseconds timeout = 5000ms) {
    if (messages_in(ws.log(), stream).size() >= n)
        return true;
    return ws
        .read_until([&](const json&) { return messages_in(ws.log(), stream).size() >= n; }, timeout)
        .has_value();
}

bool is_type(const json& f, const std::string& t) {
    return f.is_object() && f.value("type", "") == t;
}

class StreamWs : public stream_test {
protected:
    std::unique_ptr<ws_client> connect(ws_options o = {}) { return connect_ws(std::move(o)); }
    // Subscribes and returns the answer frame (subscribed or error).
    std::optional<json> subscribe(ws_client& ws, json req) {
        req["type"] = "subscribe";
        if (!ws.send_json(req))
            return std::nullopt;
        return ws.read_until(
            [](const json& f) { return is_type(f, "subscribed") || is_type(f, "error"); });
    }
};

// ------------------------------------------------------------ handshake

TEST_F(StreamWs, APlainGetOnAWsPathIs426) {
    auto r = get("/ws");
    EXPECT_EQ(r.status, 426) << r.body;
    EXPECT_TRUE(is_error_body(r.body, "Upgrade Required"));
}

TEST_F(StreamWs, ForeignOriginIsRefusedWith403) {
    ws_options o;
    o.headers = {{"Origin", "http://evil.example"}};
    auto r = ws_client::try_upgrade(port(), o);
    EXPECT_FALSE(r.upgraded);
    EXPECT_EQ(r.status, 403) << r.error << " " << r.body;

    o.headers = {{"Origin", "http://127.0.0.1:" + std::to_string(port())}};
    r = ws_client::try_upgrade(port(), o);
    EXPECT_TRUE(r.upgraded) << "the request's own host is allowed: " << r.status << " " << r.error;

    r = ws_client::try_upgrade(port(), {});
    EXPECT_TRUE(r.upgraded) << "no Origin (non-browser) is accepted: " << r.status;
}

class StreamWsCors : public stream_test {
    json extra_config() override {
        return {{"http", {{"cors_origins", json::array({"https://app.example"})}}}};
    }
};

TEST_F(StreamWsCors, AnOriginAllowedByCorsOriginsIsAccepted) {
    ws_options o;
    o.headers = {{"Origin", "https://app.example"}};
    EXPECT_TRUE(ws_client::try_upgrade(port(), o).upgraded);
    o.headers = {{"Origin", "https://other.example"}};
    auto r = ws_client::try_upgrade(port(), o);
    EXPECT_FALSE(r.upgraded);
    EXPECT_EQ(r.status, 403);
}

class StreamWsPaths : public stream_test {
    json extra_config() override { return {{"ws", {{"paths", json::array({"/alerts"})}}}}; }
};

TEST_F(StreamWsPaths, WsPathsAreConfigurable) {
    ws_options o;
    o.path = "/alerts";
    auto ws = std::make_unique<ws_client>(port(), o);
    const auto id = add("p", {{"x", "1"}});
    ASSERT_TRUE(ws->send_json({{"type", "subscribe"}, {"stream", "p"}, {"offset", "0"}}));
    ASSERT_TRUE(wait_ws_messages(*ws, "p", 1)) << ws->describe();
    EXPECT_EQ(messages_in(ws->log(), "p")[0]["offset"], id);
    EXPECT_EQ(get("/alerts").status, 426);
}

// ------------------------------------------------------------ subscribe

TEST_F(StreamWs, SubscribeReplaysThenGoesLive) {
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i)
        ids.push_back(add("s", {{"i", std::to_string(i)}, {"t", "x"}}));
    auto ws = connect();
    auto ans = subscribe(*ws, {{"stream", "s"}, {"offset", "0"}, {"id", 7}});
    ASSERT_TRUE(ans) << ws->describe();
    EXPECT_EQ(*ans, (json{{"type", "subscribed"}, {"stream", "s"}, {"id", 7}}));
    ASSERT_TRUE(wait_ws_messages(*ws, "s", 3)) << ws->describe();
    ids.push_back(add("s", {{"i", "3"}, {"t", "x"}}));
    ids.push_back(add("s", {{"i", "4"}, {"t", "x"}}));
    ASSERT_TRUE(wait_ws_messages(*ws, "s", 5)) << ws->describe();
    const auto msgs = messages_in(ws->log(), "s");
    ASSERT_EQ(msgs.size(), 5u) << ws->describe();
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(msgs[i], (json{{"offset", ids[i]}, {"i", i}, {"t", "x"}}));
    // Every frame is subscribed or messages, the subscribed one first.
    EXPECT_TRUE(is_type(ws->log()[0], "subscribed"));
    for (auto& f : ws->log()) {
        EXPECT_TRUE(is_type(f, "subscribed") || is_type(f, "messages")) << f.dump();
        if (is_type(f, "messages")) {
            EXPECT_EQ(f.size(), 3u) << "messages frame is {type, stream, messages}: " << f.dump();
            EXPECT_FALSE(f["messages"].empty()) << "an empty messages frame";
        }
    }
}

TEST_F(StreamWs, SubscribeWithAnOffsetIsExclusiveAndWithoutOneIsDollar) {
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i)
        ids.push_back(add("o", {{"i", std::to_string(i)}}));
    auto ws = connect();
    ASSERT_TRUE(subscribe(*ws, {{"stream", "o"}, {"offset", ids[0]}, {"id", "a"}}));
    ASSERT_TRUE(wait_ws_messages(*ws, "o", 2)) << ws->describe();
    EXPECT_EQ(offsets_of(messages_in(ws->log(), "o")), (std::vector<std::string>{ids[1], ids[2]}));

    auto ws2 = connect();
    auto ans = subscribe(*ws2, {{"stream", "o"}});
    ASSERT_TRUE(ans && is_type(*ans, "subscribed")) << ws2->describe();
    EXPECT_FALSE(ans->contains("id") && !(*ans)["id"].is_null())
        << "no id given, none expected: " << ans->dump();
    const auto id = add("o", {{"i", "3"}});
    ASSERT_TRUE(wait_ws_messages(*ws2, "o", 1)) << ws2->describe();
    EXPECT_EQ(offsets_of(messages_in(ws2->log(), "o")), std::vector<std::string>{id})
        << "a subscribe without offset is $";
}

TEST_F(StreamWs, ASecondSubscribeIsAnErrorAndTheFirstStays) {
    auto ws = connect();
    ASSERT_TRUE(subscribe(*ws, {{"stream", "dup"}, {"id", 1}}));
    auto ans = subscribe(*ws, {{"stream", "dup"}, {"offset", "0"}, {"id", 2}});
    ASSERT_TRUE(ans) << ws->describe();
    EXPECT_EQ(*ans, (json{{"type", "error"}, {"error", "already subscribed"}, {"id", 2}}));
    const auto id = add("dup", {{"x", "1"}});
    ASSERT_TRUE(wait_ws_messages(*ws, "dup", 1)) << ws->describe();
    EXPECT_EQ(offsets_of(messages_in(ws->log(), "dup")), std::vector<std::string>{id});
}

TEST_F(StreamWs, UnsubscribeStopsTheMessages) {
    auto ws = connect();
    ASSERT_TRUE(subscribe(*ws, {{"stream", "u"}}));
    ASSERT_TRUE(ws->send_json({{"type", "unsubscribe"}, {"stream", "u"}}));
    auto ans = ws->read_until([](const json& f) { return !is_type(f, "messages"); });
    ASSERT_TRUE(ans) << ws->describe();
    EXPECT_EQ(*ans, (json{{"type", "unsubscribed"}, {"stream", "u"}}));
    // After unsubscribing, a message on u must not come; one on v (subscribed
    // later, XADDed later) shows the socket is live and nothing of u came.
    ASSERT_TRUE(subscribe(*ws, {{"stream", "v"}}));
    add("u", {{"x", "1"}});
    add("v", {{"x", "1"}});
    ASSERT_TRUE(wait_ws_messages(*ws, "v", 1)) << ws->describe();
    EXPECT_TRUE(messages_in(ws->log(), "u").empty()) << ws->describe();
    // Subscribing again works.
    auto again = subscribe(*ws, {{"stream", "u"}, {"offset", "0"}});
    ASSERT_TRUE(again && is_type(*again, "subscribed")) << ws->describe();
}

TEST_F(StreamWs, GapFrameComesBeforeTheMessages) {
    std::vector<std::string> ids;
    for (int i = 0; i < 6; ++i)
        ids.push_back(xadd(cli(), "gw", {{"i", std::to_string(i)}}, "*", 2));
    auto ws = connect();
    ASSERT_TRUE(subscribe(*ws, {{"stream", "gw"}, {"offset", ids[0]}}));
    ASSERT_TRUE(wait_ws_messages(*ws, "gw", 2)) << ws->describe();
    const auto& log = ws->log();
    std::size_t gap_at = log.size(), first_messages = log.size();
    for (std::size_t i = 0; i < log.size(); ++i) {
        if (is_type(log[i], "gap") && gap_at == log.size())
            gap_at = i;
        if (is_type(log[i], "messages") && first_messages == log.size())
            first_messages = i;
    }
    ASSERT_LT(gap_at, log.size()) << "no gap frame: " << ws->describe();
    EXPECT_LT(gap_at, first_messages) << ws->describe();
    EXPECT_EQ(log[gap_at], (json{{"type", "gap"}, {"stream", "gw"}, {"first", ids[4]}}));
    EXPECT_EQ(offsets_of(messages_in(log, "gw")), (std::vector<std::string>{ids[4], ids[5]}));

    auto ws0 = connect();
    ASSERT_TRUE(subscribe(*ws0, {{"stream", "gw"}, {"offset", "0"}}));
    ASSERT_TRUE(wait_ws_messages(*ws0, "gw", 2)) << ws0->describe();
    for (auto& f : ws0->log())
        EXPECT_FALSE(is_type(f, "gap")) << "offset 0 is never a gap";
}

// ------------------------------------------------------------ errors

TEST_F(StreamWs, ErrorFramesLeaveTheSocketOpen) {
    auto ws = connect();
    ASSERT_TRUE(ws->send("this is not json"));
    auto e = ws->read_json();
    ASSERT_TRUE(e) << ws->describe();
    EXPECT_TRUE(is_type(*e, "error")) << e->dump();
    EXPECT_TRUE((*e)["error"].is_string()) << e->dump();
    EXPECT_FALSE(e->contains("id")) << "an error for unparsable JSON has no id: " << e->dump();

    ASSERT_TRUE(ws->send_json({{"type", "bogus"}, {"id", 5}}));
    e = ws->read_json();
    ASSERT_TRUE(e) << ws->describe();
    EXPECT_TRUE(is_type(*e, "error"));
    EXPECT_EQ(e->value("id", json()), 5) << e->dump();

    ASSERT_TRUE(ws->send_json({{"nothing", "here"}, {"id", "x"}}));
    e = ws->read_json();
    ASSERT_TRUE(e && is_type(*e, "error")) << ws->describe();

    ASSERT_TRUE(ws->send("[1,2,3]"));
    e = ws->read_json();
    ASSERT_TRUE(e && is_type(*e, "error")) << ws->describe();

    ASSERT_TRUE(ws->send_json({{"type", "subscribe"}, {"stream", "a b"}, {"id", 6}}));
    e = ws->read_json();
    ASSERT_TRUE(e) << ws->describe();
    EXPECT_EQ(*e, (json{{"type", "error"}, {"error", "Invalid name"}, {"id", 6}}));

    for (const json& bad : {json("abc"), json("1-2-3"), json(5), json("-1")}) {
        ASSERT_TRUE(
            ws->send_json({{"type", "subscribe"}, {"stream", "ok"}, {"offset", bad}, {"id", 8}}));
        e = ws->read_json();
        ASSERT_TRUE(e) << ws->describe();
        EXPECT_EQ(*e, (json{{"type", "error"}, {"error", "Invalid parameter"}, {"id", 8}}))
            << "offset " << bad.dump();
    }

    EXPECT_FALSE(ws->closed()) << ws->describe();
    auto ok = subscribe(*ws, {{"stream", "ok"}, {"id", 9}});
    ASSERT_TRUE(ok) << ws->describe();
    EXPECT_TRUE(is_type(*ok, "subscribed")) << "the socket works after errors: " << ok->dump();
}

class StreamWsLimits : public stream_test {
    json extra_config() override {
        return {{"ws", {{"max_subscriptions", 2}, {"max_message_bytes", 1024}}}};
    }
};

TEST_F(StreamWsLimits, MaxSubscriptionsIsAnErrorFrame) {
    auto ws = connect_ws();
    for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(ws->send_json({{"type", "subscribe"}, {"stream", "m" + std::to_string(i)}}));
        auto a = ws->read_json();
        ASSERT_TRUE(a && is_type(*a, "subscribed")) << ws->describe();
    }
    ASSERT_TRUE(ws->send_json({{"type", "subscribe"}, {"stream", "m2"}, {"id", 3}}));
    auto a = ws->read_json();
    ASSERT_TRUE(a) << ws->describe();
    EXPECT_TRUE(is_type(*a, "error")) << a->dump();
    EXPECT_EQ(a->value("id", json()), 3);
    EXPECT_FALSE(ws->closed());
    // Unsubscribing frees a place.
    ASSERT_TRUE(ws->send_json({{"type", "unsubscribe"}, {"stream", "m0"}}));
    ASSERT_TRUE(ws->read_until([](const json& f) { return is_type(f, "unsubscribed"); }));
    ASSERT_TRUE(ws->send_json({{"type", "subscribe"}, {"stream", "m2"}}));
    a = ws->read_json();
    ASSERT_TRUE(a && is_type(*a, "subscribed")) << ws->describe();
}

TEST_F(StreamWsLimits, AMessageOverMaxMessageBytesCloses1009) {
    auto ws = connect_ws();
    // Within the limit: fine.
    json small = {{"type", "subscribe"}, {"stream", "x"}, {"id", std::string(900, 'a')}};
    ASSERT_TRUE(ws->send_json(small));
    auto a = ws->read_json();
    ASSERT_TRUE(a) << ws->describe();
    json big = {{"type", "subscribe"}, {"stream", "y"}, {"id", std::string(2000, 'a')}};
    ws->send_json(big);
    ASSERT_TRUE(ws->wait_closed(5000ms)) << ws->describe();
    EXPECT_EQ(ws->close_code(), 1009) << ws->describe();
}

// ------------------------------------------------------------ publish

TEST_F(StreamWs, PublishAnswersPublished) {
    auto ws = connect();
    ASSERT_TRUE(ws->send_json({{"type", "publish"},
                               {"stream", "wp"},
                               {"fields", {{"s", "text"}, {"n", 3}, {"o", {{"k", 1}}}}},
                               {"id", 4}}));
    auto a = ws->read_json();
    ASSERT_TRUE(a) << ws->describe();
    ASSERT_TRUE(is_type(*a, "published")) << a->dump();
    EXPECT_EQ(a->value("stream", ""), "wp");
    ASSERT_TRUE((*a)["offset"].is_string());
    auto r = get("/stream/wp?after=0&timeout=0");
    EXPECT_EQ(
        parse_or_null(r.body),
        json::array({{{"offset", (*a)["offset"]}, {"s", "text"}, {"n", 3}, {"o", {{"k", 1}}}}}));

    // maxlen lowers the trimming for that call.
    for (int i = 0; i < 400; ++i) {
        ASSERT_TRUE(ws->send_json(
            {{"type", "publish"}, {"stream", "wm"}, {"fields", {{"i", i}}}, {"maxlen", 10}}));
        auto p = ws->read_json();
        ASSERT_TRUE(p && is_type(*p, "published")) << ws->describe();
    }
    EXPECT_LT(xlen(cli(), "wm"), 150);

    // Not an object / bad maxlen: error frames.
    ASSERT_TRUE(
        ws->send_json({{"type", "publish"}, {"stream", "wp"}, {"fields", {1, 2}}, {"id", 5}}));
    a = ws->read_json();
    ASSERT_TRUE(a && is_type(*a, "error")) << ws->describe();
    EXPECT_EQ(a->value("id", json()), 5);
    ASSERT_TRUE(ws->send_json({{"type", "publish"},
                               {"stream", "wp"},
                               {"fields", {{"a", 1}}},
                               {"maxlen", -1},
                               {"id", 6}}));
    a = ws->read_json();
    ASSERT_TRUE(a) << ws->describe();
    EXPECT_EQ(*a, (json{{"type", "error"}, {"error", "Invalid parameter"}, {"id", 6}}));
    ASSERT_TRUE(ws->send_json({{"type", "publish"},
                               {"stream", "wp"},
                               {"fields", {{"a", 1}}},
                               {"maxlen", "5"},
                               {"id", 7}}));
    a = ws->read_json();
    ASSERT_TRUE(a) << ws->describe();
    EXPECT_EQ(*a, (json{{"type", "error"}, {"error", "Invalid parameter"}, {"id", 7}}))
        << "maxlen must be a JSON integer";
}

class StreamWsNoPublish : public daemon_test {};

TEST_F(StreamWsNoPublish, PublishIsRefusedWhenSwitchedOff) {
    ws_client ws(port());
    ASSERT_TRUE(
        ws.send_json({{"type", "publish"}, {"stream", "np"}, {"fields", {{"a", 1}}}, {"id", 1}}));
    auto a = ws.read_json();
    ASSERT_TRUE(a) << ws.describe();
    EXPECT_TRUE(is_type(*a, "error")) << a->dump();
    EXPECT_EQ(a->value("id", json()), 1);
    EXPECT_EQ(cli().command({"EXISTS", skey("np")}).integer, 0);
}

constexpr const char* kSecret = "ws-secret";

class StreamWsSigned : public stream_test {
    json extra_config() override { return {{"task", {{"signing_secret", kSecret}}}}; }
};

TEST_F(StreamWsSigned, NamesAreSignedAndPublishNeedsTheToken) {
    ws_client ws(port());
    ASSERT_TRUE(ws.send_json({{"type", "subscribe"}, {"stream", "sec"}, {"id", 1}}));
    auto a = ws.read_json();
    ASSERT_TRUE(a) << ws.describe();
    EXPECT_EQ(*a, (json{{"type", "error"}, {"error", "Invalid signature"}, {"id", 1}}));

    const auto seg = signed_stream(kSecret, "sec");
    ASSERT_TRUE(ws.send_json({{"type", "subscribe"}, {"stream", seg}, {"id", 2}}));
    a = ws.read_json();
    ASSERT_TRUE(a && is_type(*a, "subscribed")) << ws.describe();

    // publish: no token / wrong token refused, the right one accepted.
    ASSERT_TRUE(
        ws.send_json({{"type", "publish"}, {"stream", seg}, {"fields", {{"a", 1}}}, {"id", 3}}));
    a = ws.read_json();
    ASSERT_TRUE(a) << ws.describe();
    EXPECT_EQ(*a, (json{{"type", "error"}, {"error", "Forbidden"}, {"id", 3}}));
    ASSERT_TRUE(ws.send_json({{"type", "publish"},
                              {"stream", seg},
                              {"fields", {{"a", 1}}},
                              {"token", publish_token(kSecret, "other")},
                              {"id", 4}}));
    a = ws.read_json();
    ASSERT_TRUE(a) << ws.describe();
    EXPECT_EQ(*a, (json{{"type", "error"}, {"error", "Forbidden"}, {"id", 4}}));
    ASSERT_TRUE(ws.send_json({{"type", "publish"},
                              {"stream", seg},
                              {"fields", {{"a", 1}}},
                              {"token", publish_token(kSecret, "sec")},
                              {"id", 5}}));
    a = ws.read_until([](const json& f) { return !is_type(f, "messages"); });
    ASSERT_TRUE(a) << ws.describe();
    EXPECT_TRUE(is_type(*a, "published")) << a->dump();
    // ...and the subscription gets it.
    const auto has_messages = [&] {
        for (auto& f : ws.log())
            if (is_type(f, "messages"))
                return true;
        return false;
    };
    EXPECT_TRUE(has_messages() || ws.read_until([](const json& f) {
        return is_type(f, "messages");
    })) << ws.describe();
    EXPECT_EQ(xlen(cli(), "sec"), 1);
}

// ------------------------------------------------------------ groups

TEST_F(StreamWs, GroupSubscriptionAndAck) {
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i)
        ids.push_back(add("wg", {{"i", std::to_string(i)}}));
    auto ws = connect();
    auto ans = subscribe(*ws, {{"stream", "wg"},
                               {"group", "g"},
                               {"consumer", "c1"},
                               {"start", "0"},
                               {"offset", "$"}, // ignored in a group subscription
                               {"id", 1}});
    ASSERT_TRUE(ans && is_type(*ans, "subscribed")) << ws->describe();
    ASSERT_TRUE(wait_ws_messages(*ws, "wg", 3)) << ws->describe();
    EXPECT_EQ(offsets_of(messages_in(ws->log(), "wg")), ids);
    auto pend = cli().command({"XPENDING", skey("wg"), "g"});
    EXPECT_EQ(pend.elements.at(0).integer, 3) << "delivered through the group (XREADGROUP)";

    ids.push_back(add("wg", {{"i", "3"}}));
    ASSERT_TRUE(wait_ws_messages(*ws, "wg", 4)) << ws->describe();

    ASSERT_TRUE(ws->send_json({{"type", "ack"},
                               {"stream", "wg"},
                               {"group", "g"},
                               {"offsets", {ids[0], ids[1], ids[3]}}}));
    auto a = ws->read_until([](const json& f) { return !is_type(f, "messages"); });
    ASSERT_TRUE(a) << ws->describe();
    EXPECT_EQ(*a, (json{{"type", "acked"}, {"stream", "wg"}, {"acked", 3}}));
    pend = cli().command({"XPENDING", skey("wg"), "g"});
    EXPECT_EQ(pend.elements.at(0).integer, 1);
}

TEST_F(StreamWs, GroupSubscriptionsShareMessages) {
    auto w1 = connect();
    auto w2 = connect();
    ASSERT_TRUE(subscribe(*w1, {{"stream", "gs"}, {"group", "g"}, {"consumer", "a"}}));
    ASSERT_TRUE(subscribe(*w2, {{"stream", "gs"}, {"group", "g"}, {"consumer", "b"}}));
    std::set<std::string> all;
    for (int i = 0; i < 40; ++i)
        all.insert(add("gs", {{"i", std::to_string(i)}}));
    ASSERT_TRUE(wait_until(
        [&] {
            w1->read(20ms);
            w2->read(20ms);
            return messages_in(w1->log(), "gs").size() + messages_in(w2->log(), "gs").size() >= 40;
        },
        10000ms, 1ms));
    std::vector<std::string> got = offsets_of(messages_in(w1->log(), "gs"));
    const auto g2 = offsets_of(messages_in(w2->log(), "gs"));
    got.insert(got.end(), g2.begin(), g2.end());
    EXPECT_EQ(got.size(), 40u) << "a message went to both consumers";
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), all);
}

// XINFO GROUPS of a stream, for failure messages.
std::string groups_info(redis_client& c, const std::string& name) {
    std::string out;
    try {
        for (auto& g : c.command({"XINFO", "GROUPS", skey(name)}).elements) {
            out += "{";
            for (std::size_t i = 0; i + 1 < g.elements.size(); i += 2)
                out += g.elements[i].str + "=" +
                       (g.elements[i + 1].type == redis_value::kind::integer
                            ? std::to_string(g.elements[i + 1].integer)
                            : g.elements[i + 1].str) +
                       " ";
            out += "}";
        }
    } catch (const std::exception& e) {
        out = e.what();
    }
    return out.empty() ? "<no group>" : out;
}

TEST_F(StreamWs, AGroupStartsAtDollarUnlessStartZero) {
    add("gd", {{"x", "old"}});
    auto ws = connect();
    ASSERT_TRUE(
        subscribe(*ws, {{"stream", "gd"}, {"group", "g"}, {"consumer", "c"}, {"offset", "0"}}));
    const auto id = add("gd", {{"x", "new"}});
    ASSERT_TRUE(wait_ws_messages(*ws, "gd", 1))
        << "a message XADDed right after `subscribed` never came; new entry " << id
        << ", groups: " << groups_info(cli(), "gd") << "; " << ws->describe();
    EXPECT_EQ(offsets_of(messages_in(ws->log(), "gd")), std::vector<std::string>{id})
        << "offset is ignored in a group subscription; the group starts at $";
}

TEST_F(StreamWs, AGroupSubscriptionOnAnExistingStreamGetsWhatComesAfterSubscribed) {
    add("ge", {{"x", "old"}});
    auto ws = connect();
    ASSERT_TRUE(subscribe(*ws, {{"stream", "ge"}, {"group", "g"}, {"consumer", "c"}}));
    const auto id = add("ge", {{"x", "new"}});
    ASSERT_TRUE(wait_ws_messages(*ws, "ge", 1))
        << "a message XADDed right after `subscribed` never came; new entry " << id
        << ", groups: " << groups_info(cli(), "ge") << "; " << ws->describe();
    EXPECT_EQ(offsets_of(messages_in(ws->log(), "ge")), std::vector<std::string>{id});
}

// ------------------------------------------------------------ lifecycle

TEST_F(StreamWs, ShutdownClosesWith1001) {
    auto ws = connect();
    ASSERT_TRUE(subscribe(*ws, {{"stream", "sd"}}));
    daemon().signal(SIGTERM);
    ASSERT_TRUE(ws->wait_closed(10000ms)) << ws->describe();
    EXPECT_EQ(ws->close_code(), 1001) << ws->describe();
}

class StreamWsSlow : public stream_test {
    json extra_config() override { return {{"http", {{"max_output_bytes", 65536}}}}; }
};

TEST_F(StreamWsSlow, AClientThatNeverReadsIsDropped) {
    ws_options o;
    o.so_rcvbuf = 4096;
    auto slow = std::make_unique<ws_client>(port(), o);
    ASSERT_TRUE(slow->send_json({{"type", "subscribe"}, {"stream", "flood"}}));
    // A second, reading client on the same stream: it keeps getting messages.
    auto fast = connect_ws();
    ASSERT_TRUE(fast->send_json({{"type", "subscribe"}, {"stream", "flood"}}));
    ASSERT_TRUE(fast->read_until([](const json& f) { return is_type(f, "subscribed"); }));
    ASSERT_TRUE(
        wait_until([&] { return daemon().metric("redis_push_ws_connections") == 2.0; }, 5000ms));
    const std::string blob(2000, 'x');
    int sent = 0;
    const bool dropped = wait_until(
        [&] {
            for (int i = 0; i < 50; ++i, ++sent)
                xadd(cli(), "flood", {{"b", blob}, {"n", std::to_string(sent)}});
            fast->read(1ms);
            return daemon().metric("redis_push_ws_connections").value_or(0) <= 1.0;
        },
        20000ms, 1ms);
    EXPECT_TRUE(dropped) << "the non-reading client was not dropped after " << sent
                         << " messages of 2 kB (http.max_output_bytes 65536)";
    // Reading now: the slow client's connection ends.
    EXPECT_TRUE(slow->wait_closed(10000ms)) << slow->describe();
    // The reading client is still served.
    const auto before = messages_in(fast->log(), "flood").size();
    xadd(cli(), "flood", {{"last", "1"}});
    EXPECT_TRUE(wait_ws_messages(*fast, "flood", before + 1, 10000ms)) << fast->describe();
}

class StreamWsPing : public stream_test {
    json extra_config() override { return {{"ws", {{"ping_seconds", 1}}}}; }
};

TEST_F(StreamWsPing, PingsEveryPingSecondsAndAnsweringKeepsTheSocket) {
    auto ws = connect_ws();
    ASSERT_TRUE(ws->send_json({{"type", "subscribe"}, {"stream", "pg"}}));
    // The client answers every ping (Beast pongs while reading): three pings
    // later the socket is still open and still delivers.
    ASSERT_TRUE(ws->wait_pings(3, 8000ms))
        << "pings seen: " << ws->pings() << "; " << ws->describe();
    EXPECT_FALSE(ws->closed()) << ws->describe();
    const auto id = add("pg", {{"x", "1"}});
    ASSERT_TRUE(wait_ws_messages(*ws, "pg", 1)) << ws->describe();
    EXPECT_EQ(offsets_of(messages_in(ws->log(), "pg")), std::vector<std::string>{id});
}

class StreamWsOff : public daemon_test {
    json daemon_config() override { return {{"stream", {{"enabled", false}}}}; }
};

TEST_F(StreamWsOff, SwitchedOffStreamModeSubscribeIsAnErrorFrame) {
    ws_client ws(port());
    ASSERT_TRUE(ws.send_json({{"type", "subscribe"}, {"stream", "x"}, {"id", 1}}));
    auto a = ws.read_json();
    ASSERT_TRUE(a) << ws.describe();
    EXPECT_TRUE(is_type(*a, "error")) << a->dump();
    EXPECT_EQ(a->value("id", json()), 1);
}

} // namespace
