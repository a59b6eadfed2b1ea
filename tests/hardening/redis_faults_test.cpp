// Section 4: Redis connections, outages, reconnects, AUTH/SELECT/unix socket.
#include <sstream>
#include <thread>

#include "common.hpp"

using namespace rpd::test;

namespace {

class RedisFaults : public daemon_test {};

TEST_F(RedisFaults, PollsAre503WhileRedisIsDownThenRecover) {
    cli().set(data_key("r"), R"({"status":"x"})");
    ASSERT_EQ(http_get(port(), "/task/r").status, 200);
    cli_.reset();
    redis().kill();

    ASSERT_TRUE(
        wait_until([&] { return http_get(port(), "/healthz", {}, 3000ms).status == 503; }, 10000ms))
        << "/healthz never reported Redis down";
    auto h = http_get(port(), "/healthz");
    EXPECT_EQ(json::parse(h.body, nullptr, false), json({{"redis", "down"}})) << h.body;

    auto start = clock::now();
    auto r = http_get(port(), "/task/r", {}, 3000ms);
    EXPECT_LT(clock::now() - start, 1000ms) << "a poll must answer 503 at once";
    EXPECT_EQ(r.status, 503);
    EXPECT_TRUE(is_error_body(r.body, "Redis unavailable"));
    EXPECT_TRUE(is_json_content_type(r));
    auto q = http_get(port(), "/task/other?poll", {}, 3000ms);
    EXPECT_EQ(q.status, 503);
    EXPECT_TRUE(is_error_body(q.body, "Redis unavailable"));
    // Validation still comes first.
    EXPECT_EQ(http_get(port(), "/task/a.b", {}, 3000ms).status, 400);

    redis().restart();
    EXPECT_TRUE(
        wait_until([&] { return http_get(port(), "/healthz", {}, 3000ms).status == 200; }, 15000ms))
        << "/healthz never came back up";
    EXPECT_EQ(json::parse(http_get(port(), "/healthz").body, nullptr, false),
              json({{"redis", "up"}}));
    auto c = redis().client();
    c.set(data_key("r"), R"({"status":"back"})");
    auto after = http_get(port(), "/task/r");
    EXPECT_EQ(after.status, 200);
    EXPECT_EQ(after.body, R"({"status":"back"})");
    auto m = daemon().metrics();
    EXPECT_GE(metric_sum(m, "redis_push_redis_reconnects_total").value_or(0), 1.0) << m;
    EXPECT_TRUE(contains(m, "redis_push_redis_reconnects_total{role=\""))
        << "reconnects_total needs a role label";
}

TEST_F(RedisFaults, WatchSurvivesRestartAndCompletesOnPublishAfterIt) {
    cli().set(data_key("rw"), R"({"status":"running"})");
    watch_client w(port(), "rw");
    ASSERT_TRUE(w.wait_established());
    cli_.reset();
    redis().kill();
    ASSERT_TRUE(wait_until([&] { return http_get(port(), "/healthz", {}, 3000ms).status == 503; },
                           10000ms));
    EXPECT_FALSE(w.conn().body_complete());
    EXPECT_FALSE(w.conn().peer_closed()) << "a waiting watch must stay open while Redis is down";

    redis().restart(); // empty: the key is gone
    auto c = redis().client();
    // Wait for the daemon to re-subscribe, then publish.
    ASSERT_TRUE(wait_until([&] { return c.numsub(channel("rw")) >= 1; }, 15000ms))
        << "channel not re-subscribed";
    // The re-read after the reconnect found no key: the watch keeps waiting.
    EXPECT_FALSE(w.conn().body_complete()) << "body: " << w.raw_body();
    const std::string fin = R"({"status":"done","data":"after restart"})";
    EXPECT_GE(c.publish(channel("rw"), fin), 1);
    ASSERT_TRUE(w.finish(5000ms));
    EXPECT_EQ(w.status(), 200);
    EXPECT_EQ(w.body(), fin);
}

TEST_F(RedisFaults, DoneSetWhileDaemonWasNotListeningCompletesAfterReconnect) {
    // The publisher only SETs the done value (no PUBLISH); it lands while the
    // daemon has lost its Redis connections. The daemon's re-read after the
    // reconnect must end the watch. Data survives the restart through an RDB.
    cli().set(data_key("od"), R"({"status":"running"})");
    watch_client w(port(), "od");
    ASSERT_TRUE(w.wait_established());
    const std::string fin = R"({"status":"done","result":"finished during outage"})";
    cli().set(data_key("od"), fin);
    cli().command({"SAVE"});
    cli_.reset();
    redis().kill();
    redis().restart(); // loads dump.rdb: the done value is there, nothing is published
    auto c = redis().client();
    ASSERT_EQ(c.get(data_key("od")), fin);
    ASSERT_TRUE(w.finish(15000ms))
        << "watch did not complete after the reconnect; body so far: `" << w.raw_body() << "`";
    EXPECT_EQ(w.status(), 200);
    EXPECT_EQ(w.body(), fin);
}

TEST_F(RedisFaults, DoneSetDuringTheOutageCompletesAfterReconnect) {
    // The SET happens while the daemon is cut off from Redis: with the daemon's
    // Redis down, a second redis-server on another port writes the done value
    // into the same data directory (SAVE); the original then restarts from it.
    // No PUBLISH ever happens: only the re-read after reconnect can end the watch.
    cli().set(data_key("od2"), R"({"status":"running"})");
    watch_client w(port(), "od2");
    ASSERT_TRUE(w.wait_established());
    cli_.reset();
    redis().kill();
    ASSERT_TRUE(wait_until([&] { return http_get(port(), "/healthz", {}, 3000ms).status == 503; },
                           10000ms));
    const std::string fin = R"({"status":"done","result":"set during the outage"})";
    {
        auto side_port = free_port();
        auto side =
            child_process::spawn({"/usr/bin/redis-server", "--port", std::to_string(side_port),
                                  "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                  "--dir", redis().dir(), "--dbfilename", "dump.rdb"},
                                 redis().dir() + "/side.log", redis().dir() + "/side.log");
        std::unique_ptr<redis_client> sc;
        ASSERT_TRUE(wait_until(
            [&] {
                try {
                    sc = std::make_unique<redis_client>(side_port);
                    return true;
                } catch (const std::exception&) {
                    return false;
                }
            },
            5000ms));
        sc->set(data_key("od2"), fin);
        sc->command({"SAVE"});
        side.kill_now();
    }
    EXPECT_FALSE(w.conn().body_complete());
    redis().restart();
    auto c = redis().client();
    ASSERT_EQ(c.get(data_key("od2")), fin);
    ASSERT_TRUE(w.finish(15000ms))
        << "watch did not complete after the reconnect; body so far: `" << w.raw_body() << "`";
    EXPECT_EQ(w.status(), 200);
    EXPECT_EQ(w.body(), fin);
}

TEST_F(RedisFaults, MissingKeyAfterReconnectKeepsWaiting) {
    cli().set(data_key("mk"), R"({"status":"running"})");
    watch_client w(port(), "mk");
    ASSERT_TRUE(w.wait_established());
    cli_.reset();
    redis().kill();
    redis().restart();
    auto c = redis().client();
    ASSERT_TRUE(wait_until([&] { return c.numsub(channel("mk")) >= 1; }, 15000ms));
    // The re-read found no key: must not be answered with Not Found.
    c.set(data_key("mk"), R"({"status":"done","v":1})");
    c.publish(channel("mk"), R"({"status":"update"})");
    ASSERT_TRUE(w.finish(5000ms));
    EXPECT_EQ(w.body(), R"({"status":"done","v":1})")
        << "a missing key after reconnect must keep the watch waiting";
}

TEST_F(RedisFaults, WatchStaysOpenWhileTheCommandConnectionIsDownDuringResubscribe) {
    // Spec 4: "While the command connection is down, polls answer 503 at once;
    // waiting watches stay open." Drop the subscriber connections (they come
    // back, re-subscribe and re-read), while the command connection is kept
    // down for a while by killing it again and again: the re-read cannot be
    // done, and that must not end the watch.
    cli().set(data_key("cd"), R"({"status":"running"})");
    watch_client w(port(), "cd");
    ASSERT_TRUE(w.wait_established());
    cli_.reset();
    auto killer = redis().client("rpd-it-killer");
    killer.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
    killer.command({"CLIENT", "KILL", "TYPE", "pubsub", "SKIPME", "yes"});
    auto until = clock::now() + 1500ms;
    while (clock::now() < until) {
        killer.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
        std::this_thread::sleep_for(2ms);
    }
    // Now let everything come back.
    ASSERT_TRUE(wait_until([&] { return http_get(port(), "/healthz", {}, 3000ms).status == 200; },
                           15000ms));
    ASSERT_TRUE(wait_until([&] { return killer.numsub(channel("cd")) >= 1; }, 15000ms));
    EXPECT_FALSE(w.conn().body_complete())
        << "watch ended while the command connection was down: `" << w.raw_body() << "`";
    const std::string fin = R"({"status":"done","data":"cmd back"})";
    killer.publish(channel("cd"), fin);
    ASSERT_TRUE(w.finish(5000ms));
    EXPECT_EQ(w.body(), fin);
}

TEST_F(RedisFaults, WatchSurvivesRepeatedRestarts) {
    // Ten crash/restart cycles of Redis: each time the watch's key is gone
    // after the restart (no persistence), so each re-read must keep it waiting
    // (spec 2 Watch 5: "anything else (including a missing key) keeps it waiting").
    cli().set(data_key("rr"), R"({"status":"running"})");
    watch_client w(port(), "rr");
    ASSERT_TRUE(w.wait_established());
    cli_.reset();
    for (int round = 0; round < 10; ++round) {
        redis().kill();
        redis().restart();
        auto c = redis().client();
        ASSERT_TRUE(wait_until([&] { return c.numsub(channel("rr")) >= 1; }, 15000ms))
            << "round " << round;
        ASSERT_TRUE(wait_until(
            [&] { return http_get(port(), "/healthz", {}, 3000ms).status == 200; }, 15000ms))
            << "round " << round;
        ASSERT_FALSE(w.conn().body_complete())
            << "round " << round << ": watch ended with `" << w.raw_body() << "`";
    }
    auto c = redis().client();
    const std::string fin = R"({"status":"done","data":"after ten restarts"})";
    c.publish(channel("rr"), fin);
    ASSERT_TRUE(w.finish(5000ms));
    EXPECT_EQ(w.body(), fin);
}

TEST_F(RedisFaults, UpdateWhileTheCommandConnectionIsDownDoesNotEndTheWatch) {
    // An update arrives (subscriber connection fine) while the command
    // connection is down, so the key cannot be read. The spec's list of ways a
    // watch ends has no "Redis unavailable"; waiting watches stay open, and
    // after the reconnect the re-read finds the done value.
    cli().set(data_key("uc"), R"({"status":"running"})");
    watch_client w(port(), "uc");
    ASSERT_TRUE(w.wait_established());
    cli_.reset();
    auto killer = redis().client("rpd-it-killer");
    const std::string fin = R"({"status":"done","v":"read after reconnect"})";
    auto start = clock::now();
    bool published = false;
    while (clock::now() - start < 1200ms) {
        killer.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
        if (!published && clock::now() - start > 300ms) {
            killer.set(data_key("uc"), fin);
            killer.publish(channel("uc"), R"({"status":"update"})");
            published = true;
        }
        std::this_thread::sleep_for(2ms);
    }
    ASSERT_TRUE(w.finish(10000ms))
        << "watch never completed after the command connection came back";
    EXPECT_EQ(w.body(), fin);
}

TEST_F(RedisFaults, RedisStoppedGracefullyAlsoRecovers) {
    cli_.reset();
    redis().stop();
    ASSERT_TRUE(wait_until([&] { return http_get(port(), "/healthz", {}, 3000ms).status == 503; },
                           10000ms));
    redis().restart();
    EXPECT_TRUE(wait_until([&] { return http_get(port(), "/healthz", {}, 3000ms).status == 200; },
                           15000ms));
}

TEST_F(RedisFaults, ConnectionCountStaysFixed) {
    // 1 command connection + subscriber_connections (default 4), whatever the traffic.
    std::vector<std::unique_ptr<watch_client>> ws;
    for (int i = 0; i < 50; ++i) {
        auto id = "cc" + std::to_string(i);
        cli().set(data_key(id), R"({"status":"running"})");
        ws.push_back(std::make_unique<watch_client>(port(), id));
    }
    for (auto& w : ws)
        ASSERT_TRUE(w->wait_established());
    for (int i = 0; i < 50; ++i)
        http_get(port(), "/task/cc" + std::to_string(i));
    auto n = cli().foreign_client_count();
    EXPECT_GE(n, 2u);
    EXPECT_LE(n, 5u) << cli().client_list();
}

TEST(RedisStartup, DaemonStartsWithRedisDownAndConnectsLater) {
    auto port = free_port();
    daemon_process::options o;
    o.wait = start_wait::listening;
    daemon_process d(port, o);
    auto h = http_get(d.port(), "/healthz", {}, 3000ms);
    EXPECT_EQ(h.status, 503);
    EXPECT_EQ(http_get(d.port(), "/task/x", {}, 3000ms).status, 503);
    // Bring a Redis up on exactly that port.
    temp_dir dir;
    auto rp =
        child_process::spawn({"/usr/bin/redis-server", "--port", std::to_string(port), "--bind",
                              "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.path()},
                             dir.file("log"), dir.file("log"));
    EXPECT_TRUE(wait_until([&] { return http_get(d.port(), "/healthz", {}, 3000ms).status == 200; },
                           20000ms))
        << "daemon never connected to a Redis that came up later";
    rp.kill_now();
}

// ------------------------------------------------------------ AUTH, SELECT, unix socket

TEST(RedisAuth, PasswordFromConfig) {
    redis_server::options ro;
    ro.extra_args = {"--requirepass", "s3cret"};
    ro.password = "s3cret";
    redis_server redis(ro);
    auto c = redis.client();
    c.set(data_key("a"), R"({"status":"x"})");
    daemon_process d(redis.port(), json{{"redis", {{"password", "s3cret"}}}});
    EXPECT_EQ(http_get(d.port(), "/task/a").body, R"({"status":"x"})");
}

TEST(RedisAuth, EnvironmentPasswordWins) {
    redis_server::options ro;
    ro.extra_args = {"--requirepass", "fromenv"};
    ro.password = "fromenv";
    redis_server redis(ro);
    redis.client().set(data_key("a"), R"({"status":"x"})");
    daemon_process::options o;
    o.config = json{{"redis", {{"password", "wrong"}}}};
    o.env = {{"REDIS_PUSH_REDIS_PASSWORD", "fromenv"}};
    daemon_process d(redis.port(), o);
    EXPECT_EQ(http_get(d.port(), "/task/a").status, 200);
}

TEST(RedisAuth, WrongPasswordIsReportedAsDown) {
    redis_server::options ro;
    ro.extra_args = {"--requirepass", "right"};
    ro.password = "right";
    redis_server redis(ro);
    daemon_process::options o;
    o.config = json{{"redis", {{"password", "wrong"}}}};
    o.wait = start_wait::listening;
    daemon_process d(redis.port(), o);
    EXPECT_TRUE(wait_until([&] { return http_get(d.port(), "/healthz", {}, 3000ms).status == 503; },
                           5000ms));
    EXPECT_EQ(http_get(d.port(), "/task/a", {}, 3000ms).status, 503);
}

TEST(RedisAuth, AclUserAndPassword) {
    redis_server::options ro;
    ro.extra_args = {"--user", "default", "off", "--user", "pusher",
                     "on",     ">pw1",    "~*",  "&*",     "+@all"};
    ro.username = "pusher";
    ro.password = "pw1";
    redis_server redis(ro);
    auto c = redis.client();
    c.set(data_key("acl"), R"({"status":"running"})");
    daemon_process d(redis.port(), json{{"redis", {{"username", "pusher"}, {"password", "pw1"}}}});
    EXPECT_EQ(http_get(d.port(), "/task/acl").status, 200);
    watch_client w(d.port(), "acl");
    ASSERT_TRUE(w.wait_established());
    c.publish(channel("acl"), R"({"status":"done","data":"acl"})");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.body(), R"({"status":"done","data":"acl"})");
}

TEST(RedisSelect, DatabaseNumber) {
    redis_server redis;
    auto c = redis.client();
    c.command({"SELECT", "3"});
    c.set(data_key("db"), R"({"status":"in db 3"})");
    daemon_process d3(redis.port(), json{{"redis", {{"db", 3}}}});
    auto r = http_get(d3.port(), "/task/db");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"status":"in db 3"})");
    daemon_process d0(redis.port());
    EXPECT_EQ(http_get(d0.port(), "/task/db").status, 404);
}

TEST(RedisUnixSocket, UnixSocketWinsOverHostAndPort) {
    redis_server::options ro;
    ro.unix_socket = true;
    redis_server redis(ro);
    auto c = redis.client();
    c.set(data_key("u"), R"({"status":"running"})");
    // host/port point nowhere: only the socket can work.
    auto nowhere = free_port();
    daemon_process d(nowhere, json{{"redis", {{"unix_socket", redis.unix_socket_path()}}}});
    EXPECT_EQ(http_get(d.port(), "/task/u").status, 200);
    watch_client w(d.port(), "u");
    ASSERT_TRUE(w.wait_established());
    c.publish(channel("u"), R"({"status":"done","data":"unix"})");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.body(), R"({"status":"done","data":"unix"})");
}

} // namespace
