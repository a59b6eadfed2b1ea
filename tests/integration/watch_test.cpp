// Section 2 "Watch": every way a watch starts and ends.
#include <regex>

#include "common.hpp"

using namespace rpd::test;

namespace {

class Watch : public daemon_test {};

const std::regex
    kUuid("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");

TEST_F(Watch, DoneValueIsAnsweredAtOnce) {
    const std::string value = R"({ "status":"done",  "result": {"x": [1, 2.50]} })";
    cli().set(data_key("t1"), value);
    watch_client w(port(), "t1");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.status(), 200);
    EXPECT_EQ(w.raw_body(), value);
    EXPECT_TRUE(is_json_content_type(w.response()));
    EXPECT_TRUE(has_no_store(w.response()));
    EXPECT_TRUE(has_x_accel_no(w.response()));
    // A done task leaves no subscription behind.
    EXPECT_TRUE(wait_until([&] { return cli().numsub(channel("t1")) == 0; }, 3000ms));
}

TEST_F(Watch, MissingTaskIs404) {
    watch_client w(port(), "nothere");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.status(), 404);
    EXPECT_TRUE(is_error_body(w.raw_body(), "Not Found"));
    EXPECT_TRUE(is_json_content_type(w.response()));
    EXPECT_TRUE(has_no_store(w.response()));
    EXPECT_TRUE(has_x_accel_no(w.response()));
    EXPECT_TRUE(wait_until([&] { return cli().numsub(channel("nothere")) == 0; }, 3000ms));
}

TEST_F(Watch, InvalidJsonIs502) {
    cli().set(data_key("bad"), R"({"status":"running")");
    watch_client w(port(), "bad");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.status(), 502);
    EXPECT_TRUE(is_error_body(w.raw_body(), "Invalid JSON in task data"));
    EXPECT_TRUE(has_x_accel_no(w.response()));
    EXPECT_TRUE(wait_until([&] { return cli().numsub(channel("bad")) == 0; }, 3000ms));
}

TEST_F(Watch, DoneDetectionParsesTheJson) {
    // Whitespace inside: still done.
    cli().set(data_key("d1"), "{ \"status\" :\n \"done\" }");
    watch_client a(port(), "d1");
    ASSERT_TRUE(a.finish(3000ms));
    EXPECT_EQ(a.status(), 200);
    EXPECT_EQ(a.raw_body(), "{ \"status\" :\n \"done\" }");
    // "done" only nested, or as another member, or not an object: the watch waits.
    for (const char* v :
         {R"({"status":"running","inner":{"status":"done"}})", R"({"state":"done"})",
          R"({"status":"done "})", R"(["status","done"])", R"("done")"}) {
        SCOPED_TRACE(v);
        cli().set(data_key("d2"), v);
        watch_client w(port(), "d2");
        ASSERT_TRUE(w.wait_established()) << "status " << w.status() << " body " << w.raw_body();
        cli().publish(channel("d2"), R"({"status":"done","data":"end"})");
        ASSERT_TRUE(w.finish(3000ms));
        EXPECT_EQ(w.body(), R"({"status":"done","data":"end"})");
    }
}

TEST_F(Watch, PollOfInvalidJsonIsStill200) {
    cli().set(data_key("bad"), "nope");
    auto r = http_get(port(), "/task/bad");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "nope");
}

TEST_F(Watch, WaitsThenUpdateReadsTheKey) {
    cli().set(data_key("w1"), R"({"status":"running","pct":10})");
    watch_client w(port(), "w1");
    ASSERT_TRUE(w.wait_established()) << "status " << w.status() << " body " << w.raw_body();
    EXPECT_TRUE(w.response().chunked) << "an HTTP/1.1 watch response is chunked";
    EXPECT_TRUE(is_json_content_type(w.response()));
    EXPECT_TRUE(has_no_store(w.response()));
    EXPECT_TRUE(has_x_accel_no(w.response()));
    EXPECT_GE(cli().numsub(channel("w1")), 1);

    const std::string next = R"({"status":"running",   "pct":55})";
    cli().set(data_key("w1"), next);
    EXPECT_GE(cli().publish(channel("w1"), R"({"status":"update"})"), 1);
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.status(), 200);
    EXPECT_EQ(w.body(), next);
    EXPECT_TRUE(wait_until([&] { return cli().numsub(channel("w1")) == 0; }, 3000ms));
}

TEST_F(Watch, DoneWithoutDataReadsTheKey) {
    cli().set(data_key("w2"), R"({"status":"running"})");
    watch_client w(port(), "w2");
    ASSERT_TRUE(w.wait_established());
    const std::string fin = R"({"status":"done","answer":42})";
    cli().set(data_key("w2"), fin);
    cli().publish(channel("w2"), R"({"status":"done"})");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.body(), fin);
}

TEST_F(Watch, DoneWithDataIsTheMessageVerbatim) {
    cli().set(data_key("w3"), R"({"status":"running"})");
    watch_client w(port(), "w3");
    ASSERT_TRUE(w.wait_established());
    // The key holds something else: the message must be the answer, unparsed.
    const std::string msg = R"({ "status" : "done", "data": {"b":2, "a":1.0} ,"extra":"\u00e9"})";
    cli().publish(channel("w3"), msg);
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.status(), 200);
    EXPECT_EQ(w.body(), msg);
}

TEST_F(Watch, UpdateWithDataIsTheMessageVerbatim) {
    cli().set(data_key("w4"), R"({"status":"running"})");
    watch_client w(port(), "w4");
    ASSERT_TRUE(w.wait_established());
    const std::string msg = R"({"status":"update","data":"progress 50%"})";
    cli().publish(channel("w4"), msg);
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.body(), msg);
}

TEST_F(Watch, DataNullReadsTheKey) {
    cli().set(data_key("w5"), R"({"status":"running"})");
    watch_client w(port(), "w5");
    ASSERT_TRUE(w.wait_established());
    const std::string fin = R"({"status":"done","from":"key"})";
    cli().set(data_key("w5"), fin);
    cli().publish(channel("w5"), R"({"status":"done","data":null})");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.body(), fin);
}

TEST_F(Watch, DataFalsyButNotNullIsTheMessage) {
    cli().set(data_key("w6"), R"({"status":"running"})");
    watch_client w(port(), "w6");
    ASSERT_TRUE(w.wait_established());
    const std::string msg = R"({"status":"update","data":0})";
    cli().publish(channel("w6"), msg);
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.body(), msg);
}

TEST_F(Watch, UpdateWithKeyGoneGivesNotFoundObject) {
    cli().set(data_key("w7"), R"({"status":"running"})");
    watch_client w(port(), "w7");
    ASSERT_TRUE(w.wait_established());
    cli().command({"DEL", data_key("w7")});
    cli().publish(channel("w7"), R"({"status":"update"})");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.status(), 200) << "the head was already sent";
    EXPECT_TRUE(is_error_body(w.body(), "Not Found"));
}

TEST_F(Watch, OtherMessagesAreIgnored) {
    cli().set(data_key("w8"), R"({"status":"running"})");
    watch_client w(port(), "w8");
    ASSERT_TRUE(w.wait_established());
    // Redis delivers in order: if any of these ended the watch, the body would differ.
    for (const char* m : {R"({"status":"progress","data":1})", "not json", "[1,2]", R"("done")",
                          R"({"data":1})", R"({"status":42})", ""}) {
        cli().publish(channel("w8"), m);
    }
    const std::string fin = R"({"status":"done","data":"real"})";
    cli().publish(channel("w8"), fin);
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.body(), fin);
}

TEST_F(Watch, ForeignKillEndsTheWatch) {
    cli().set(data_key("k1"), R"({"status":"running"})");
    watch_client w(port(), "k1");
    ASSERT_TRUE(w.wait_established());
    cli().publish(channel("k1"),
                  R"({"status":"kill","src":"00000000-0000-4000-8000-000000000000"})");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.status(), 200);
    EXPECT_TRUE(is_error_body(w.body(), "Killed due to another concurrent request for this task"));
}

TEST_F(Watch, KillWithoutSrcEndsTheWatch) {
    cli().set(data_key("k2"), R"({"status":"running"})");
    watch_client w(port(), "k2");
    ASSERT_TRUE(w.wait_established());
    cli().publish(channel("k2"), R"({"status":"kill"})");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_TRUE(is_error_body(w.body(), "Killed due to another concurrent request for this task"));
}

TEST_F(Watch, KillMessageIsPublishedWithTheWatchUuid) {
    cli().set(data_key("k3"), R"({"status":"running"})");
    auto sub = redis().client("rpd-it-sub");
    sub.subscribe(channel("k3"));
    watch_client w(port(), "k3");
    ASSERT_TRUE(w.wait_established());
    auto msg = sub.next_message(3000ms);
    ASSERT_TRUE(msg) << "no kill message published on " << channel("k3");
    EXPECT_EQ(msg->first, channel("k3"));
    json j = json::parse(msg->second, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << msg->second;
    ASSERT_TRUE(j.is_object()) << msg->second;
    EXPECT_EQ(j.value("status", ""), "kill") << msg->second;
    ASSERT_TRUE(j.contains("src") && j["src"].is_string()) << msg->second;
    EXPECT_TRUE(std::regex_match(j["src"].get<std::string>(), kUuid)) << msg->second;
    EXPECT_EQ(j.size(), 2u) << msg->second;

    // The watch is not killed by its own message: it still gets a later update.
    const std::string fin = R"({"status":"done","data":"ok"})";
    cli().publish(channel("k3"), fin);
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.body(), fin);

    // A second watch publishes a different uuid.
    watch_client w2(port(), "k3");
    ASSERT_TRUE(w2.wait_established());
    std::optional<std::pair<std::string, std::string>> msg2;
    // Skip our own `fin` publication.
    for (int i = 0; i < 3; ++i) {
        msg2 = sub.next_message(3000ms);
        if (!msg2 || msg2->second != fin)
            break;
    }
    ASSERT_TRUE(msg2);
    json j2 = json::parse(msg2->second, nullptr, false);
    ASSERT_TRUE(j2.is_object()) << msg2->second;
    EXPECT_EQ(j2.value("status", ""), "kill");
    EXPECT_NE(j2.value("src", ""), j.value("src", "")) << "two watches share a uuid";
}

TEST_F(Watch, NoKillIsPublishedForADoneOrMissingTask) {
    cli().set(data_key("k4"), R"({"status":"done"})");
    auto sub = redis().client("rpd-it-sub");
    sub.subscribe(channel("k4"));
    sub.command({"SUBSCRIBE", channel("k5")});
    {
        watch_client w(port(), "k4");
        ASSERT_TRUE(w.finish(3000ms));
        EXPECT_EQ(w.status(), 200);
    }
    {
        watch_client w(port(), "k5");
        ASSERT_TRUE(w.finish(3000ms));
        EXPECT_EQ(w.status(), 404);
    }
    // Marker: the first message the subscriber sees must be our marker.
    cli().publish(channel("k4"), "marker");
    auto m = sub.next_message(3000ms);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->second, "marker") << "a kill was published for a watch that was never established";
}

TEST_F(Watch, SecondLocalWatchKillsTheFirstAndSurvives) {
    cli().set(data_key("two"), R"({"status":"running"})");
    watch_client older(port(), "two");
    ASSERT_TRUE(older.wait_established());
    watch_client newer(port(), "two");
    ASSERT_TRUE(newer.wait_established());
    ASSERT_TRUE(older.finish(3000ms));
    EXPECT_EQ(older.status(), 200);
    EXPECT_TRUE(
        is_error_body(older.body(), "Killed due to another concurrent request for this task"));
    // The newer one ignored its own kill message and is still waiting.
    EXPECT_FALSE(newer.conn().body_complete());
    const std::string fin = R"({"status":"done","data":{"winner":"newer"}})";
    cli().publish(channel("two"), fin);
    ASSERT_TRUE(newer.finish(3000ms));
    EXPECT_EQ(newer.status(), 200);
    EXPECT_EQ(newer.body(), fin);
}

TEST_F(Watch, NewerWatchAlwaysSurvivesRepeated) {
    // The replace-the-older-watch rule, 100 times in a row: a daemon that lets
    // the older watch's own kill message (delivered late on the subscriber
    // connection) kill the newer watch fails here with near certainty.
    int newer_killed = 0;
    for (int i = 0; i < 100; ++i) {
        std::string id = "rep" + std::to_string(i);
        cli().set(data_key(id), R"({"status":"running"})");
        watch_client older(port(), id);
        ASSERT_TRUE(older.wait_established()) << i;
        watch_client newer(port(), id);
        ASSERT_TRUE(newer.wait_head()) << i;
        ASSERT_TRUE(older.finish(3000ms)) << i;
        EXPECT_TRUE(
            is_error_body(older.body(), "Killed due to another concurrent request for this task"))
            << i;
        const std::string fin = R"({"status":"done","data":)" + std::to_string(i) + "}";
        cli().publish(channel(id), fin);
        ASSERT_TRUE(newer.finish(3000ms)) << i;
        if (newer.body() != fin)
            ++newer_killed;
    }
    EXPECT_EQ(newer_killed, 0) << "the newer watch was killed in " << newer_killed
                               << " of 100 rounds";
}

TEST_F(Watch, ThirdWatchKillsSecond) {
    cli().set(data_key("three"), R"({"status":"running"})");
    watch_client a(port(), "three");
    ASSERT_TRUE(a.wait_established());
    watch_client b(port(), "three");
    ASSERT_TRUE(b.wait_established());
    ASSERT_TRUE(a.finish(3000ms));
    watch_client c(port(), "three");
    ASSERT_TRUE(c.wait_established());
    ASSERT_TRUE(b.finish(3000ms));
    EXPECT_TRUE(is_error_body(b.body(), "Killed due to another concurrent request for this task"));
    cli().publish(channel("three"), R"({"status":"done","data":3})");
    ASSERT_TRUE(c.finish(3000ms));
    EXPECT_EQ(c.body(), R"({"status":"done","data":3})");
}

TEST_F(Watch, WatchesOfDifferentTasksAreIndependent) {
    cli().set(data_key("ia"), R"({"status":"running"})");
    cli().set(data_key("ib"), R"({"status":"running"})");
    watch_client a(port(), "ia");
    watch_client b(port(), "ib");
    ASSERT_TRUE(a.wait_established());
    ASSERT_TRUE(b.wait_established());
    cli().publish(channel("ia"), R"({"status":"done","data":"a"})");
    ASSERT_TRUE(a.finish(3000ms));
    EXPECT_EQ(a.body(), R"({"status":"done","data":"a"})");
    EXPECT_FALSE(b.conn().body_complete());
    cli().publish(channel("ib"), R"({"status":"done","data":"b"})");
    ASSERT_TRUE(b.finish(3000ms));
    EXPECT_EQ(b.body(), R"({"status":"done","data":"b"})");
}

TEST_F(Watch, ConnectionIsReusableAfterTheFinalBody) {
    cli().set(data_key("ka"), R"({"status":"running"})");
    watch_client w(port(), "ka");
    ASSERT_TRUE(w.wait_established());
    cli().publish(channel("ka"), R"({"status":"update","data":1})");
    ASSERT_TRUE(w.finish(3000ms));
    auto first = w.conn().take_response();
    EXPECT_EQ(strip_leading_newlines(first.body), R"({"status":"update","data":1})");
    ASSERT_TRUE(w.conn().send_request("GET", "/task/ka"));
    auto r = w.conn().read_response(3000ms);
    ASSERT_TRUE(r) << "no response on the reused connection";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, R"({"status":"running"})");
    // And a second watch on the same connection.
    ASSERT_TRUE(w.conn().send_request("GET", "/task/ka?watch"));
    ASSERT_TRUE(w.conn().read_head(3000ms));
    EXPECT_EQ(w.conn().current().status, 200);
    cli().publish(channel("ka"), R"({"status":"done","data":2})");
    ASSERT_TRUE(w.conn().read_body(3000ms));
    EXPECT_EQ(strip_leading_newlines(w.conn().body_so_far()), R"({"status":"done","data":2})");
}

TEST_F(Watch, Http10WatchIsCloseDelimited) {
    cli().set(data_key("old"), R"({"status":"running"})");
    watch_client w(port(), "old", {}, "HTTP/1.0");
    ASSERT_TRUE(w.wait_established());
    EXPECT_FALSE(w.response().chunked) << "no chunked encoding for HTTP/1.0";
    EXPECT_FALSE(w.response().has_header("Content-Length"));
    cli().publish(channel("old"), R"({"status":"done","data":"x"})");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_TRUE(w.conn().peer_closed());
    EXPECT_EQ(w.body(), R"({"status":"done","data":"x"})");
}

TEST_F(Watch, ClientCloseReleasesTheSubscription) {
    cli().set(data_key("gone"), R"({"status":"running"})");
    {
        watch_client w(port(), "gone");
        ASSERT_TRUE(w.wait_established());
        EXPECT_EQ(cli().numsub(channel("gone")), 1);
        EXPECT_TRUE(wait_until([&] { return daemon().metric("redis_push_watches_active") == 1.0; },
                               3000ms));
    }
    EXPECT_TRUE(wait_until([&] { return cli().numsub(channel("gone")) == 0; }, 5000ms));
    EXPECT_TRUE(
        wait_until([&] { return daemon().metric("redis_push_watches_active") == 0.0; }, 5000ms));
    // A later publish reaches nobody and does not disturb the daemon.
    cli().publish(channel("gone"), R"({"status":"done"})");
    EXPECT_EQ(http_get(port(), "/healthz").status, 200);
}

TEST_F(Watch, SeveralWatchersShareOneSubscription) {
    // Two ids: two channels; one channel never has more than one daemon subscription.
    cli().set(data_key("s1"), R"({"status":"running"})");
    watch_client a(port(), "s1");
    ASSERT_TRUE(a.wait_established());
    watch_client b(port(), "s1");
    ASSERT_TRUE(b.wait_established()) << "status " << b.status() << " body `" << b.raw_body() << "`"
                                      << (b.conn().peer_closed() ? " [closed]" : "");
    EXPECT_EQ(cli().numsub(channel("s1")), 1);
    ASSERT_TRUE(a.finish(3000ms)); // killed
    EXPECT_EQ(cli().numsub(channel("s1")), 1) << "the remaining watcher lost its subscription";
    cli().publish(channel("s1"), R"({"status":"done","data":1})");
    ASSERT_TRUE(b.finish(3000ms));
    EXPECT_EQ(b.body(), R"({"status":"done","data":1})");
}

// ------------------------------------------------------------ keepalive / timeout

class WatchKeepalive : public daemon_test {
protected:
    json daemon_config() override { return {{"watch", {{"keepalive_seconds", 1}}}}; }
};

TEST_F(WatchKeepalive, NewlinesWhileWaitingThenTheAnswer) {
    cli().set(data_key("ka"), R"({"status":"running"})");
    watch_client w(port(), "ka");
    ASSERT_TRUE(w.wait_established());
    auto start = clock::now();
    ASSERT_TRUE(w.conn().read_body_at_least(2, 5000ms)) << "fewer than 2 keepalive bytes in 5 s";
    EXPECT_GE(clock::now() - start, 900ms) << "keepalives came faster than every second";
    EXPECT_EQ(w.raw_body(), std::string(w.raw_body().size(), '\n'))
        << "keepalive bytes must be newlines";
    const std::string fin = R"({"status":"done","data":"after keepalive"})";
    cli().publish(channel("ka"), fin);
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_GE(w.leading_newlines(), 2u);
    EXPECT_EQ(w.body(), fin);
}

class WatchTimeout : public daemon_test {
protected:
    json daemon_config() override {
        return {{"watch", {{"timeout_seconds", 1}, {"keepalive_seconds", 0}}}};
    }
};

TEST_F(WatchTimeout, TimesOutWithTheErrorObject) {
    cli().set(data_key("slow"), R"({"status":"running"})");
    auto start = clock::now();
    watch_client w(port(), "slow");
    ASSERT_TRUE(w.wait_established());
    ASSERT_TRUE(w.finish(5000ms));
    auto took = clock::now() - start;
    EXPECT_GE(took, 900ms);
    EXPECT_LT(took, 4000ms);
    EXPECT_EQ(w.status(), 200);
    // keepalive_seconds 0: no newline at all before the answer.
    EXPECT_TRUE(is_error_body(w.raw_body(), "Watch timed out"));
    EXPECT_TRUE(wait_until([&] { return cli().numsub(channel("slow")) == 0; }, 3000ms));
    // Keep-alive reuse after a timeout.
    ASSERT_TRUE(w.conn().body_complete());
    w.conn().take_response();
    ASSERT_TRUE(w.conn().send_request("GET", "/task/slow"));
    auto r = w.conn().read_response(3000ms);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

class WatchNoTimeoutByDefault : public daemon_test {
protected:
    json daemon_config() override { return {{"watch", {{"keepalive_seconds", 1}}}}; }
};

TEST_F(WatchNoTimeoutByDefault, StillWaitingAfterSeveralSeconds) {
    cli().set(data_key("long"), R"({"status":"running"})");
    watch_client w(port(), "long");
    ASSERT_TRUE(w.wait_established());
    // Three keepalives = about three seconds of waiting without an answer.
    ASSERT_TRUE(w.conn().read_body_at_least(3, 6000ms));
    EXPECT_FALSE(w.conn().body_complete());
    EXPECT_EQ(w.raw_body(), std::string(w.raw_body().size(), '\n'));
    cli().publish(channel("long"), R"({"status":"done","data":1})");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.body(), R"({"status":"done","data":1})");
}

// ------------------------------------------------------------ prefix

class WatchPrefix : public daemon_test {
protected:
    json daemon_config() override { return {{"redis", {{"prefix", "XY:"}}}}; }
};

TEST_F(WatchPrefix, CustomPrefixForKeysAndChannels) {
    cli().set("RA_D_p", R"({"status":"done","wrong":"prefix"})");
    EXPECT_EQ(http_get(port(), "/task/p").status, 404) << "read the default-prefix key";
    cli().set("XY:D_p", R"({"status":"running"})");
    auto poll = http_get(port(), "/task/p");
    EXPECT_EQ(poll.status, 200);
    EXPECT_EQ(poll.body, R"({"status":"running"})");

    auto sub = redis().client("rpd-it-sub");
    sub.subscribe("XY:SC_p");
    watch_client w(port(), "p");
    ASSERT_TRUE(w.wait_established());
    EXPECT_EQ(cli().numsub("XY:SC_p"), 2); // daemon + our subscriber
    EXPECT_EQ(cli().numsub("RA_SC_p"), 0);
    auto kill = sub.next_message(3000ms);
    ASSERT_TRUE(kill) << "no kill message on XY:SC_p";
    EXPECT_TRUE(contains(kill->second, "\"kill\""));
    cli().publish("RA_SC_p", R"({"status":"done","data":"wrong channel"})");
    cli().set("XY:D_p", R"({"status":"done","v":2})");
    cli().publish("XY:SC_p", R"({"status":"update"})");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.body(), R"({"status":"done","v":2})");
}

// ------------------------------------------------------------ two instances

TEST(WatchTwoDaemons, WatchOnBKillsWatchOnA) {
    redis_server redis;
    auto cli = redis.client();
    daemon_process a(redis.port());
    daemon_process b(redis.port());
    cli.set(data_key("shared"), R"({"status":"running"})");
    watch_client wa(a.port(), "shared");
    ASSERT_TRUE(wa.wait_established());
    watch_client wb(b.port(), "shared");
    ASSERT_TRUE(wb.wait_established());
    ASSERT_TRUE(wa.finish(3000ms));
    EXPECT_EQ(wa.status(), 200);
    EXPECT_TRUE(is_error_body(wa.body(), "Killed due to another concurrent request for this task"));
    EXPECT_FALSE(wb.conn().body_complete());
    // And back: a watch on A kills the one on B.
    watch_client wa2(a.port(), "shared");
    ASSERT_TRUE(wa2.wait_established());
    ASSERT_TRUE(wb.finish(3000ms));
    EXPECT_TRUE(is_error_body(wb.body(), "Killed due to another concurrent request for this task"));
    cli.publish(channel("shared"), R"({"status":"done","data":"A wins"})");
    ASSERT_TRUE(wa2.finish(3000ms));
    EXPECT_EQ(wa2.body(), R"({"status":"done","data":"A wins"})");
}

} // namespace
