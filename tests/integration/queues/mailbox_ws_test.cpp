// Mailboxes over WebSocket (MODES.md 2, 4 identify row, 6 WebSocket /
// Mailbox waiters): identify, queued then live messages as raw text frames,
// no acknowledgement frame, replacement of an older socket, switching
// identity, error frames, signatures, ws.paths, the redis-ws-alerts
// publisher convention (key_prefix "", notify_list "watch").
#include "queues/queue_common.hpp"

using namespace rpd::test;

namespace {

class MailboxWs : public queue_test {
protected:
    // identify, then a probe: once the probe's error frame came back the
    // identify was processed. Returns the frames that arrived before it.
    std::vector<std::string> identify(ws_client& ws, const std::string& identity) {
        EXPECT_TRUE(ws.send_json(identify_frame(identity)));
        auto before = frames_until_probe(ws);
        EXPECT_TRUE(before) << "no answer to the probe after identify: " << ws.describe();
        return before.value_or(std::vector<std::string>{});
    }
};

TEST_F(MailboxWs, IdentifyDeliversQueuedThenLiveMessagesAsRawFrames) {
    const std::vector<std::string> queued = {R"({ "spaced" : 1 })", "not json at all",
                                             "caf\xc3\xa9 \xe2\x82\xac", R"({"a":1})"};
    rpush(cli(), mkey("alice"), queued);
    auto ws = connect_ws();
    ASSERT_TRUE(ws->send_json(identify_frame("alice")));
    std::vector<std::string> got;
    ASSERT_TRUE(read_frames(*ws, got, queued.size())) << ws->describe();
    EXPECT_EQ(got, queued) << "each stored string verbatim, one frame each, in order";
    EXPECT_TRUE(wait_until([&] { return llen(cli(), mkey("alice")) == 0; }, 3000ms))
        << "delivered messages were left in Redis";

    rpush(cli(), mkey("alice"), {R"({"live":1})"});
    rpush(cli(), mkey("alice"), {"live two", R"({"live":3})"});
    ASSERT_TRUE(read_frames(*ws, got, queued.size() + 3)) << ws->describe();
    EXPECT_EQ(std::vector<std::string>(got.begin() + 4, got.end()),
              (std::vector<std::string>{R"({"live":1})", "live two", R"({"live":3})"}));
    EXPECT_FALSE(ws->closed());
}

TEST_F(MailboxWs, IdentifyIsNotAcknowledged) {
    auto ws = connect_ws();
    const auto before = identify(*ws, "quiet");
    EXPECT_TRUE(before.empty()) << "a frame answered the identify: " << before.front();
    rpush(cli(), mkey("quiet"), {"first"});
    auto f = ws->read(5000ms);
    ASSERT_TRUE(f) << ws->describe();
    EXPECT_EQ(*f, "first") << "the first frame after identify is the first message";
}

TEST_F(MailboxWs, AThousandQueuedMessagesArriveInOrder) {
    std::vector<std::string> msgs;
    for (int i = 0; i < 1000; ++i)
        msgs.push_back(R"({"i":)" + std::to_string(i) + "}");
    for (int b = 0; b < 1000; b += 250)
        rpush(cli(), mkey("bulk"),
              std::vector<std::string>(msgs.begin() + b, msgs.begin() + b + 250));
    auto ws = connect_ws();
    ASSERT_TRUE(ws->send_json(identify_frame("bulk")));
    std::vector<std::string> got;
    ASSERT_TRUE(read_frames(*ws, got, 1000, 15000ms)) << got.size() << " of 1000";
    EXPECT_EQ(got, msgs);
}

TEST_F(MailboxWs, ANewerIdentifyReplacesTheOlderSocket) {
    auto older = connect_ws();
    EXPECT_TRUE(identify(*older, "bob").empty());
    auto newer = connect_ws();
    ASSERT_TRUE(newer->send_json(identify_frame("bob")));
    auto f = older->read(5000ms);
    ASSERT_TRUE(f) << "the older socket was not told: " << older->describe();
    EXPECT_EQ(parse_or_null(*f), error_event("replaced")) << *f;
    EXPECT_FALSE(older->closed()) << "the replaced socket stays open";

    rpush(cli(), mkey("bob"), {"for-the-newer"});
    auto g = newer->read(5000ms);
    ASSERT_TRUE(g) << newer->describe();
    EXPECT_EQ(*g, "for-the-newer");
    auto leftover = frames_until_probe(*older);
    ASSERT_TRUE(leftover) << "the replaced socket no longer answers: " << older->describe();
    EXPECT_TRUE(leftover->empty()) << "the replaced socket got a message: " << leftover->front();
    EXPECT_FALSE(older->closed());

    // The replaced socket can identify again (and replaces in turn).
    ASSERT_TRUE(older->send_json(identify_frame("bob")));
    auto h = newer->read(5000ms);
    ASSERT_TRUE(h);
    EXPECT_EQ(parse_or_null(*h), error_event("replaced"));
    rpush(cli(), mkey("bob"), {"back"});
    auto i = older->read(5000ms);
    ASSERT_TRUE(i);
    EXPECT_EQ(*i, "back");
}

TEST_F(MailboxWs, ReplacementWhileMessagesArePendingLosesNone) {
    auto older = connect_ws();
    EXPECT_TRUE(identify(*older, "race").empty());
    std::vector<std::string> msgs;
    for (int i = 0; i < 200; ++i)
        msgs.push_back("r" + std::to_string(i));
    std::thread pusher([&] {
        redis_client c(redis().port(), "rpd-it-pusher");
        for (auto& m : msgs)
            c.command({"RPUSH", mkey("race"), m});
    });
    auto newer = connect_ws();
    ASSERT_TRUE(newer->send_json(identify_frame("race")));
    pusher.join();
    // Everything sent to the older before "replaced", then the newer's.
    std::vector<std::string> from_older;
    while (true) {
        auto f = older->read(5000ms);
        ASSERT_TRUE(f) << "no `replaced` on the older socket";
        if (parse_or_null(*f) == error_event("replaced"))
            break;
        from_older.push_back(*f);
    }
    std::vector<std::string> from_newer;
    ASSERT_TRUE(read_frames(*newer, from_newer, msgs.size() - from_older.size(), 10000ms))
        << from_older.size() << " to the older, " << from_newer.size() << " to the newer, "
        << llen(cli(), mkey("race")) << " left in Redis";
    std::vector<std::string> all = from_older;
    all.insert(all.end(), from_newer.begin(), from_newer.end());
    EXPECT_EQ(all, msgs) << "lost, duplicated or reordered across the replacement";
    auto extra = frames_until_probe(*older);
    ASSERT_TRUE(extra);
    EXPECT_TRUE(extra->empty()) << "the older got a message after `replaced`";
}

TEST_F(MailboxWs, ASecondIdentifyOnTheSameSocketSwitchesIdentity) {
    auto ws = connect_ws();
    EXPECT_TRUE(identify(*ws, "carol").empty());
    EXPECT_TRUE(identify(*ws, "dave").empty());
    rpush(cli(), mkey("carol"), {"for-carol"});
    rpush(cli(), mkey("dave"), {"for-dave"});
    auto f = ws->read(5000ms);
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, "for-dave");
    auto extra = frames_until_probe(*ws);
    ASSERT_TRUE(extra);
    EXPECT_TRUE(extra->empty()) << "still receiving the old identity's messages: "
                                << extra->front();
    EXPECT_EQ(lrange(cli(), mkey("carol")), std::vector<std::string>{"for-carol"})
        << "the old identity's message stays in Redis";
    // The old identity is free for another socket without a `replaced`.
    auto other = connect_ws();
    ASSERT_TRUE(other->send_json(identify_frame("carol")));
    auto g = other->read(5000ms);
    ASSERT_TRUE(g);
    EXPECT_EQ(*g, "for-carol");
    auto none = frames_until_probe(*ws);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty()) << "the switched socket was sent " << none->front();
}

TEST_F(MailboxWs, InvalidNamesGetAnErrorFrameAndTheSocketStays) {
    auto ws = connect_ws();
    for (const std::string& bad :
         std::vector<std::string>{"a b", "", std::string(201, 'x'), "caf\xc3\xa9"}) {
        ASSERT_TRUE(ws->send_json(identify_frame(bad)));
        auto f = ws->read(5000ms);
        ASSERT_TRUE(f) << "no answer to identify `" << bad << "`: " << ws->describe();
        EXPECT_EQ(parse_or_null(*f), error_event("Invalid name")) << bad << " -> " << *f;
    }
    EXPECT_FALSE(ws->closed());
    rpush(cli(), mkey(std::string(200, 'x')), {"long-ok"});
    ASSERT_TRUE(ws->send_json(identify_frame(std::string(200, 'x'))));
    auto f = ws->read(5000ms);
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, "long-ok") << "200 characters is a valid identity";
}

TEST_F(MailboxWs, AnIdentifyWithoutAStringQueueIsAnError) {
    auto ws = connect_ws();
    for (const json& bad : {json{{"event", "identify"}}, json{{"event", "identify"}, {"queue", 5}},
                            json{{"event", "identify"}, {"queue", nullptr}}}) {
        ASSERT_TRUE(ws->send_json(bad));
        auto f = ws->read(5000ms);
        ASSERT_TRUE(f) << bad.dump();
        const json j = parse_or_null(*f);
        EXPECT_TRUE(j.is_object() &&
                    (j.value("event", "") == "error" || j.value("type", "") == "error"))
            << bad.dump() << " -> " << *f;
    }
    EXPECT_FALSE(ws->closed());
}

TEST_F(MailboxWs, AnIdentifiedSocketIsPreferredToAnHttpWaiter) {
    auto http = pending("/mailbox/erin?timeout=2");
    ASSERT_TRUE(wait_key_watched(mkey("erin")));
    auto ws = connect_ws();
    EXPECT_TRUE(identify(*ws, "erin").empty());
    rpush(cli(), mkey("erin"), {"to-ws"});
    auto f = ws->read(5000ms);
    ASSERT_TRUE(f) << ws->describe();
    EXPECT_EQ(*f, "to-ws");
    auto r = http->wait(6000ms);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 504) << "the HTTP waiter also got: " << r->body;
}

TEST_F(MailboxWs, AResetSocketLosesNothing) {
    auto ws = connect_ws();
    EXPECT_TRUE(identify(*ws, "frank").empty());
    linger l{1, 0};
    ::setsockopt(ws->native_fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ws->abort();
    rpush(cli(), mkey("frank"), {"f1", "f2"});
    auto again = connect_ws();
    ASSERT_TRUE(again->send_json(identify_frame("frank")));
    std::vector<std::string> got;
    ASSERT_TRUE(read_frames(*again, got, 2))
        << "messages for a vanished socket were lost: " << llen(cli(), mkey("frank"))
        << " left in Redis";
    EXPECT_EQ(got, (std::vector<std::string>{"f1", "f2"}));
}

TEST_F(MailboxWs, MessagesFromBeforeAndAfterARedisRestartArrive) {
    auto ws = connect_ws();
    EXPECT_TRUE(identify(*ws, "gina").empty());
    rpush(cli(), mkey("gina"), {"before"});
    auto f = ws->read(5000ms);
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, "before");
    redis().restart();
    cli_ = std::make_unique<redis_client>(redis().client());
    rpush(cli(), mkey("gina"), {"after"});
    auto g = ws->read(10000ms);
    ASSERT_TRUE(g) << "the identified socket is no longer served after a Redis restart: "
                   << ws->describe();
    EXPECT_EQ(*g, "after");
}

TEST_F(MailboxWs, MetricsCountMailboxDeliveries) {
    auto ws = connect_ws();
    rpush(cli(), mkey("met"), {"1", "2", "3"});
    ASSERT_TRUE(ws->send_json(identify_frame("met")));
    std::vector<std::string> got;
    ASSERT_TRUE(read_frames(*ws, got, 3));
    EXPECT_TRUE(wait_until(
        [&] { return counter("redis_push_messages_delivered_total", {"mode=\"mailbox\""}) >= 3; },
        3000ms))
        << daemon().metrics();
    EXPECT_GE(daemon().metric("redis_push_ws_connections").value_or(0), 1);
}

// ------------------------------------------------------------ ws.paths, off

class MailboxWsPaths : public queue_test {
    json extra_config() override { return {{"ws", {{"paths", json::array({"/alerts", "/"})}}}}; }
};

TEST_F(MailboxWsPaths, IdentifyWorksOnAnyConfiguredPath) {
    for (const std::string& path : std::vector<std::string>{"/alerts", "/"}) {
        const std::string who = path == "/" ? "root" : "alerts";
        rpush(cli(), mkey(who), {"via " + path});
        ws_options o;
        o.path = path;
        auto ws = connect_ws(o);
        ASSERT_TRUE(ws->send_json(identify_frame(who)));
        auto f = ws->read(5000ms);
        ASSERT_TRUE(f) << path;
        EXPECT_EQ(*f, "via " + path);
    }
}

class MailboxWsOff : public queue_test {
    json extra_config() override { return {{"mailbox", {{"enabled", false}}}}; }
};

TEST_F(MailboxWsOff, IdentifyWithTheMailboxModeOffIsAnErrorFrame) {
    rpush(cli(), mkey("off"), {"kept"});
    auto ws = connect_ws();
    ASSERT_TRUE(ws->send_json(identify_frame("off")));
    auto f = ws->read(5000ms);
    ASSERT_TRUE(f) << ws->describe();
    EXPECT_EQ(parse_or_null(*f), error_event("Mailbox mode is switched off")) << *f;
    EXPECT_FALSE(ws->closed());
    EXPECT_EQ(llen(cli(), mkey("off")), 1);
    EXPECT_EQ(get("/mailbox/off?timeout=0").status, 404);
}

// ------------------------------------------------------------ signatures

constexpr const char* kSecret = "ws-secret";

class MailboxWsSigned : public queue_test {
    json extra_config() override { return {{"task", {{"signing_secret", kSecret}}}}; }
};

TEST_F(MailboxWsSigned, IdentifyNeedsAMailboxSignature) {
    rpush(cli(), mkey("hal"), {"private"});
    auto ws = connect_ws();
    for (const std::string& bad : std::vector<std::string>{
             std::string("hal"), std::string("hal."),
             "hal." + hmac_b64url(kSecret, "queue:hal", 16),
             "hal." + hmac_b64url(kSecret, "hal", 16),
             "hal." + hmac_b64url(kSecret, "stream:hal", 16), signed_mailbox(kSecret, "hal") + "x",
             "ham." + signed_mailbox(kSecret, "hal").substr(4)}) {
        ASSERT_TRUE(ws->send_json(identify_frame(bad)));
        auto f = ws->read(5000ms);
        ASSERT_TRUE(f) << bad;
        EXPECT_EQ(parse_or_null(*f), error_event("Invalid signature")) << bad << " -> " << *f;
    }
    EXPECT_FALSE(ws->closed()) << "the socket stays after a bad signature";
    EXPECT_EQ(llen(cli(), mkey("hal")), 1) << "a bad signature read the mailbox";
    ASSERT_TRUE(ws->send_json(identify_frame(signed_mailbox(kSecret, "hal"))));
    auto f = ws->read(5000ms);
    ASSERT_TRUE(f) << ws->describe();
    EXPECT_EQ(*f, "private");
}

// ------------------------------------------------------------ redis-ws-alerts

// Publishers of redis-ws-alerts, unchanged: RPUSH <identity> <json> and
// RPUSH watch <identity>. The daemon consumes `watch` (BLPOP) on one
// dedicated connection, so it never grows.
class MailboxAlerts : public queue_test {
    json extra_config() override {
        return {{"mailbox", {{"key_prefix", ""}, {"notify_list", "watch"}}}};
    }
};

TEST_F(MailboxAlerts, ThePublisherConventionWorksEndToEnd) {
    // Queued before the browser connects.
    rpush(cli(), "alice", {R"({"a":1})"});
    rpush(cli(), "watch", {"alice"});
    auto ws = connect_ws();
    ASSERT_TRUE(ws->send_json(identify_frame("alice")));
    auto f = ws->read(5000ms);
    ASSERT_TRUE(f) << ws->describe();
    EXPECT_EQ(*f, R"({"a":1})");
    // Live.
    rpush(cli(), "alice", {R"({"a":2})"});
    rpush(cli(), "watch", {"alice"});
    f = ws->read(5000ms);
    ASSERT_TRUE(f) << ws->describe();
    EXPECT_EQ(*f, R"({"a":2})");
    EXPECT_TRUE(wait_until([&] { return llen(cli(), "watch") == 0; }, 3000ms))
        << "the notify list grows: " << llen(cli(), "watch");
    EXPECT_EQ(llen(cli(), "alice"), 0);
    // Without a socket, the alert waits in Redis; HTTP drains the same list.
    ws->close();
    rpush(cli(), "alice", {R"({"a":3})"});
    rpush(cli(), "watch", {"alice"});
    EXPECT_TRUE(wait_until([&] { return llen(cli(), "watch") == 0; }, 3000ms));
    EXPECT_EQ(lrange(cli(), "alice"), std::vector<std::string>{R"({"a":3})"});
    auto r = get("/mailbox/alice?timeout=0");
    EXPECT_EQ(parse_or_null(r.body), json::array({json{{"a", 3}}})) << r.body;
}

TEST_F(MailboxAlerts, TheNotifyListIsConsumedEvenForIdentitiesNobodyWaitsFor) {
    for (int i = 0; i < 50; ++i) {
        rpush(cli(), "nobody" + std::to_string(i), {R"({"x":1})"});
        rpush(cli(), "watch", {"nobody" + std::to_string(i)});
    }
    EXPECT_TRUE(wait_until([&] { return llen(cli(), "watch") == 0; }, 5000ms))
        << llen(cli(), "watch") << " names left in `watch`";
    EXPECT_EQ(llen(cli(), "nobody7"), 1) << "alerts wait in Redis until the identity connects";
    auto r = get("/mailbox/nobody7?timeout=0");
    EXPECT_EQ(parse_or_null(r.body), json::array({json{{"x", 1}}})) << r.body;
}

TEST_F(MailboxAlerts, TheNotifyListUsesExactlyOneBlockingConnection) {
    ASSERT_TRUE(wait_until(
        [&] {
            const auto list = cli().client_list();
            std::size_t n = 0, pos = 0;
            while ((pos = list.find("cmd=blpop", pos)) != std::string::npos) {
                ++n;
                ++pos;
            }
            return n == 1;
        },
        5000ms))
        << "expected one connection blocked in BLPOP:\n"
        << cli().client_list();
    std::vector<std::unique_ptr<ws_client>> sockets;
    const std::size_t before = cli().foreign_client_count();
    for (int i = 0; i < 50; ++i) {
        sockets.push_back(connect_ws());
        ASSERT_TRUE(sockets.back()->send_json(identify_frame("u" + std::to_string(i))));
    }
    rpush(cli(), "u49", {"hello"});
    rpush(cli(), "watch", {"u49"});
    auto f = sockets.back()->read(5000ms);
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, "hello");
    EXPECT_LE(cli().foreign_client_count(), before)
        << "Redis connections grew with 50 identified sockets:\n"
        << cli().client_list();
}

TEST_F(MailboxAlerts, ANotifyListOfTheWrongTypeDoesNotBreakDelivery) {
    cli().command({"DEL", "watch"});
    cli().set("watch", "oops");
    auto ws = connect_ws();
    ASSERT_TRUE(ws->send_json(identify_frame("zed")));
    rpush(cli(), "zed", {"still"});
    auto f = ws->read(5000ms);
    ASSERT_TRUE(f) << "delivery stopped with a notify list of the wrong type";
    EXPECT_EQ(*f, "still");
    EXPECT_EQ(http_get(port(), "/healthz").status, 200);
}

// With keyspace notifications off and a long re-check, only the doorbell on
// `watch` can deliver quickly.
class MailboxAlertsDoorbell : public queue_test {
    json extra_config() override {
        return {{"mailbox", {{"key_prefix", ""}, {"notify_list", "watch"}}},
                {"redis", {{"keyspace_events", "off"}}},
                {"modes", {{"recheck_ms", 60000}}}};
    }
};

TEST_F(MailboxAlertsDoorbell, APoppedNameIsADoorbellForThatMailbox) {
    auto ws = connect_ws();
    EXPECT_TRUE(frames_until_probe(*ws).has_value());
    ASSERT_TRUE(ws->send_json(identify_frame("bell")));
    ASSERT_TRUE(frames_until_probe(*ws).has_value());
    const auto t0 = clock::now();
    rpush(cli(), "bell", {R"({"ring":1})"});
    rpush(cli(), "watch", {"bell"});
    auto f = ws->read(5000ms);
    ASSERT_TRUE(f) << "the doorbell did not deliver (keyspace events off, recheck 60 s)";
    EXPECT_EQ(*f, R"({"ring":1})");
    EXPECT_LT(ms_between(t0, clock::now()), 3000.0);
    // An HTTP waiter rings the same bell.
    auto p = pending("/mailbox/bell2?timeout=10");
    wait_until([&] { return waiters() >= 1; }, 1000ms);
    rpush(cli(), "bell2", {"b2"});
    rpush(cli(), "watch", {"bell2"});
    auto r = p->wait(5000ms);
    ASSERT_TRUE(r) << "an HTTP mailbox waiter was not woken by the doorbell";
    EXPECT_EQ(parse_or_null(r->body), json::array({"b2"}));
}

} // namespace
