// Queue delivery guarantees (MODES.md 0, 1; 6 Queues, Keyspace events):
// oldest waiter first, each message to exactly one client, a vanished
// client's message back at the head, two daemons on one Redis, a fixed
// number of Redis connections, one take per push (not per waiter),
// keyspace events off / missed, a Redis restart while consumers wait.
#include "queues/queue_common.hpp"

using namespace rpd::test;

namespace {

class QueueDelivery : public queue_test {};

TEST_F(QueueDelivery, WaitersAreServedOldestWaitingFirst) {
    constexpr int kWaiters = 6;
    std::vector<std::unique_ptr<stream_poll>> polls;
    for (int i = 0; i < kWaiters; ++i) {
        polls.push_back(pending("/queue/fifo?timeout=20"));
        ASSERT_TRUE(wait_waiters(i + 1)) << "waiter " << i << " not registered: " << waiters();
    }
    for (int i = 0; i < kWaiters; ++i) {
        const std::string m = "m" + std::to_string(i);
        rpush(cli(), qkey("fifo"), {m});
        auto r = polls[i]->wait(5000ms);
        ASSERT_TRUE(r) << "message " << m << " did not go to waiter " << i
                       << ", the oldest still waiting";
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, m);
    }
    EXPECT_EQ(llen(cli(), qkey("fifo")), 0);
}

TEST_F(QueueDelivery, SeveralMessagesAtOnceGoOldestToOldestEachToExactlyOne) {
    constexpr int kWaiters = 10;
    std::vector<std::unique_ptr<stream_poll>> polls;
    for (int i = 0; i < kWaiters; ++i) {
        polls.push_back(pending("/queue/once?timeout=20"));
        ASSERT_TRUE(wait_waiters(i + 1));
    }
    // 4 messages for 10 waiters in one RPUSH: the 4 oldest get one each.
    rpush(cli(), qkey("once"), {"a0", "a1", "a2", "a3"});
    for (int i = 0; i < 4; ++i) {
        auto r = polls[i]->wait(5000ms);
        ASSERT_TRUE(r) << "waiter " << i;
        EXPECT_EQ(r->body, "a" + std::to_string(i)) << "waiter " << i;
    }
    ASSERT_TRUE(wait_until([&] { return waiters() == kWaiters - 4; }, 5000ms)) << waiters();
    rpush(cli(), qkey("once"), {"b4", "b5", "b6", "b7", "b8", "b9", "extra1", "extra2"});
    for (int i = 4; i < kWaiters; ++i) {
        auto r = polls[i]->wait(5000ms);
        ASSERT_TRUE(r) << "waiter " << i;
        EXPECT_EQ(r->body, "b" + std::to_string(i)) << "waiter " << i;
    }
    EXPECT_TRUE(wait_until([&] { return waiters() == 0; }, 3000ms));
    EXPECT_EQ(lrange(cli(), qkey("once")), (std::vector<std::string>{"extra1", "extra2"}))
        << "a message without a waiter stays in Redis, in order";
}

TEST_F(QueueDelivery, WaitersOnDifferentQueuesDoNotSeeEachOthersMessages) {
    auto a = pending("/queue/qa?timeout=20");
    ASSERT_TRUE(wait_waiters(1));
    auto b = pending("/queue/qb?timeout=20");
    ASSERT_TRUE(wait_waiters(2));
    rpush(cli(), qkey("qb"), {"for-b"});
    auto rb = b->wait(5000ms);
    ASSERT_TRUE(rb);
    EXPECT_EQ(rb->body, "for-b");
    rpush(cli(), qkey("qa"), {"for-a"});
    auto ra = a->wait(5000ms);
    ASSERT_TRUE(ra);
    EXPECT_EQ(ra->body, "for-a");
}

// ------------------------------------------------------------ vanished

// The client resets its connection while waiting; the next message must not
// be lost to it: it stays (or goes back) at the head, order kept.
TEST_F(QueueDelivery, AMessageForAResetClientStaysAtTheHead) {
    redis_monitor mon(redis().port());
    auto gone = pending("/queue/van?timeout=20");
    ASSERT_TRUE(wait_waiters(1));
    close_with_reset(gone->conn());
    rpush(cli(), qkey("van"), {"m1", "m2"});
    auto r1 = get("/queue/van?timeout=5");
    EXPECT_EQ(r1.status, 200);
    EXPECT_EQ(r1.body, "m1") << "m1 was lost or reordered; what Redis saw:\n"
                             << tail(mon.text(), 3000);
    auto r2 = get("/queue/van?timeout=5");
    EXPECT_EQ(r2.body, "m2");
    EXPECT_EQ(llen(cli(), qkey("van")), 0);
    EXPECT_TRUE(wait_until([&] { return waiters() == 0; }, 3000ms)) << waiters();
}

TEST_F(QueueDelivery, AMessageForAClosedClientStaysAtTheHead) {
    redis_monitor mon(redis().port());
    auto gone = pending("/queue/vanfin?timeout=20");
    ASSERT_TRUE(wait_waiters(1));
    gone->conn().close(); // FIN
    rpush(cli(), qkey("vanfin"), {"m1", "m2"});
    auto r1 = get("/queue/vanfin?timeout=5");
    EXPECT_EQ(r1.status, 200);
    EXPECT_EQ(r1.body, "m1") << "m1 was lost to the closed client, or reordered; what Redis saw:\n"
                             << tail(mon.text(), 3000);
    EXPECT_EQ(get("/queue/vanfin?timeout=5").body, "m2");
}

TEST_F(QueueDelivery, AVanishedOldestWaiterDoesNotTakeFromTheNextOne) {
    auto gone = pending("/queue/van2?timeout=20");
    ASSERT_TRUE(wait_waiters(1));
    auto next = pending("/queue/van2?timeout=20");
    ASSERT_TRUE(wait_waiters(2));
    close_with_reset(gone->conn());
    rpush(cli(), qkey("van2"), {"only"});
    auto r = next->wait(5000ms);
    ASSERT_TRUE(r) << "the live waiter never got the message meant for the vanished one";
    EXPECT_EQ(r->body, "only");
    EXPECT_EQ(llen(cli(), qkey("van2")), 0);
}

TEST_F(QueueDelivery, ManyVanishedClientsLoseNothingAndDuplicateNothing) {
    constexpr int kGone = 20;
    std::vector<std::unique_ptr<stream_poll>> polls;
    for (int i = 0; i < kGone; ++i)
        polls.push_back(pending("/queue/many?timeout=20"));
    ASSERT_TRUE(wait_waiters(kGone));
    std::vector<std::string> msgs;
    for (int i = 0; i < kGone; ++i)
        msgs.push_back("v" + std::to_string(i));
    for (int i = 0; i < kGone; ++i) {
        if (i % 2)
            close_with_reset(polls[i]->conn());
        else
            polls[i]->conn().close();
    }
    rpush(cli(), qkey("many"), msgs);
    std::multiset<std::string> got;
    http_connection c(port());
    for (int i = 0; i < kGone + 1; ++i) {
        ASSERT_TRUE(c.send_request("GET", "/queue/many?timeout=1"));
        auto r = c.read_response(5000ms);
        ASSERT_TRUE(r);
        if (r->status != 200)
            break;
        got.insert(r->body);
    }
    EXPECT_EQ(got, std::multiset<std::string>(msgs.begin(), msgs.end()))
        << "with several takes for vanished clients, content survives";
}

// ------------------------------------------------------------ two daemons

TEST_F(QueueDelivery, TwoDaemonsAndManyConsumersDeliverEachOf2000MessagesOnce) {
    raise_fd_limit(4096);
    daemon_process second(redis().port(), daemon_config());
    constexpr int kMessages = 2000;
    constexpr int kConsumersPerDaemon = 10;
    std::mutex mu;
    std::vector<std::string> received;
    std::atomic<int> count{0};
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::vector<std::thread> consumers;
    for (int i = 0; i < 2 * kConsumersPerDaemon; ++i) {
        const std::uint16_t p = i % 2 ? second.port() : port();
        consumers.emplace_back([&, p] {
            std::vector<std::string> mine;
            try {
                http_connection c(p);
                while (!stop) {
                    if (!c.send_request("GET", "/queue/two?timeout=1")) {
                        ++failures;
                        break;
                    }
                    auto r = c.read_response(5000ms);
                    if (!r) {
                        ++failures;
                        break;
                    }
                    if (r->status == 200) {
                        mine.push_back(r->body);
                        ++count;
                    } else if (r->status != 504) {
                        ++failures;
                    }
                }
            } catch (const std::exception&) {
                ++failures;
            }
            std::lock_guard<std::mutex> l(mu);
            received.insert(received.end(), mine.begin(), mine.end());
        });
    }
    for (int b = 0; b < kMessages; b += 100) {
        std::vector<std::string> batch;
        for (int i = b; i < b + 100; ++i)
            batch.push_back(R"({"i":)" + std::to_string(i) + "}");
        rpush(cli(), qkey("two"), batch);
    }
    const bool all = wait_until([&] { return count >= kMessages; }, 30000ms, 20ms);
    // A little longer: a duplicate would show up as more than kMessages.
    wait_until([&] { return count > kMessages; }, 500ms, 20ms);
    stop = true;
    for (auto& t : consumers)
        t.join();
    EXPECT_TRUE(all) << "only " << count << " of " << kMessages << " delivered; left in Redis "
                     << llen(cli(), qkey("two"));
    EXPECT_EQ(failures, 0);
    std::set<std::string> unique(received.begin(), received.end());
    EXPECT_EQ(received.size(), static_cast<std::size_t>(kMessages)) << "duplicates or losses";
    EXPECT_EQ(unique.size(), static_cast<std::size_t>(kMessages)) << "duplicates";
    for (int i = 0; i < kMessages; ++i)
        if (!unique.count(R"({"i":)" + std::to_string(i) + "}")) {
            ADD_FAILURE() << "message " << i << " lost";
            break;
        }
    EXPECT_EQ(llen(cli(), qkey("two")), 0);
    const double d1 = counter("redis_push_messages_delivered_total", {"mode=\"queue\""});
    const double d2 = metric_with_labels(second.metrics(), "redis_push_messages_delivered_total",
                                         {"mode=\"queue\""})
                          .value_or(0);
    EXPECT_GT(d1, 0) << "daemon 1 delivered nothing: no real sharing";
    EXPECT_GT(d2, 0) << "daemon 2 delivered nothing: no real sharing";
    EXPECT_EQ(d1 + d2, kMessages);
}

TEST_F(QueueDelivery, WaitersOnTwoDaemonsEachGetOneMessage) {
    daemon_process second(redis().port(), daemon_config());
    auto a = pending("/queue/pair?timeout=20");
    stream_poll b(second.port(), "/queue/pair?timeout=20");
    ASSERT_TRUE(wait_waiters(1));
    ASSERT_TRUE(wait_waiters(second, 1));
    rpush(cli(), qkey("pair"), {"x", "y"});
    auto ra = a->wait(5000ms);
    auto rb = b.wait(5000ms);
    ASSERT_TRUE(ra && rb) << "a waiter on one of the daemons was not served";
    EXPECT_EQ((std::set<std::string>{ra->body, rb->body}), (std::set<std::string>{"x", "y"}));
}

// ------------------------------------------------------------ Redis side

TEST_F(QueueDelivery, RedisConnectionsDoNotGrowWith200Waiters) {
    raise_fd_limit(4096);
    {
        rpush(cli(), qkey("warm"), {"w"});
        get("/queue/warm?timeout=0");
        get("/queue/warm?timeout=0");
        auto p = pending("/queue/warm?timeout=10");
        ASSERT_TRUE(wait_waiters(1));
        rpush(cli(), qkey("warm"), {"w"});
        ASSERT_TRUE(p->wait(5000ms));
        get("/mailbox/warm?timeout=0");
    }
    const std::size_t before = cli().foreign_client_count();
    std::vector<std::unique_ptr<stream_poll>> polls;
    for (int i = 0; i < 200; ++i)
        polls.push_back(pending("/queue/c" + std::to_string(i % 100) + "?timeout=30"));
    ASSERT_TRUE(wait_waiters(200, 10000ms)) << waiters();
    const std::size_t during = cli().foreign_client_count();
    rpush(cli(), qkey("c0"), {"x"});
    rpush(cli(), qkey("c99"), {"y"});
    ASSERT_TRUE(polls[0]->wait(5000ms));
    ASSERT_TRUE(polls[99]->wait(5000ms));
    EXPECT_LE(during, before) << "Redis connections grew from " << before << " to " << during
                              << " with 200 queue waiters:\n"
                              << cli().client_list();
    EXPECT_LE(during, 4u + 2u) << "more than subscriber_connections (4) + command + one:\n"
                               << cli().client_list();
    EXPECT_EQ(cli().client_list().find("cmd=blpop"), std::string::npos)
        << "a blocking command without mailbox.notify_list:\n"
        << cli().client_list();
}

class QueueDeliveryNoRecheck : public queue_test {
    json extra_config() override { return {{"modes", {{"recheck_ms", 60000}}}}; }
};

TEST_F(QueueDeliveryNoRecheck, OnePushCausesAFewReadsNotOnePerWaiter) {
    constexpr int kWaiters = 50;
    std::vector<std::unique_ptr<stream_poll>> polls;
    for (int i = 0; i < kWaiters; ++i)
        polls.push_back(pending("/queue/fan?timeout=30"));
    ASSERT_TRUE(wait_waiters(kWaiters));
    ASSERT_TRUE(
        wait_until([&] { return cli().numsub("__keyspace@0__:" + qkey("fan")) >= 1; }, 5000ms))
        << "the daemon does not watch the key's keyspace channel (MODES.md 0)";
    long long last = -1;
    int stable = 0;
    wait_until(
        [&] {
            const long long now = list_take_calls(cli());
            stable = now == last ? stable + 1 : 0;
            last = now;
            return stable >= 5;
        },
        5000ms, 50ms);
    const long long before = list_take_calls(cli());
    rpush(cli(), qkey("fan"), {"one"});
    ASSERT_TRUE(wait_until([&] { return waiters() == kWaiters - 1; }, 5000ms)) << waiters();
    EXPECT_EQ(polls[0]->wait(5000ms).value_or(http_response{}).body, "one");
    const long long reads = list_take_calls(cli()) - before;
    EXPECT_LE(reads, 3) << kWaiters << " waiters on one queue caused " << reads
                        << " list reads for one RPUSH (INFO commandstats)";
}

TEST_F(QueueDelivery, RechecksAreOnePerKeyNotOnePerWaiter) {
    // recheck_ms 200: 50 waiters on one key for one second is ~5 re-checks
    // of that key, not ~250.
    std::vector<std::unique_ptr<stream_poll>> polls;
    for (int i = 0; i < 50; ++i)
        polls.push_back(pending("/queue/rk?timeout=30"));
    ASSERT_TRUE(wait_waiters(50));
    const long long before = list_take_calls(cli());
    const auto t0 = clock::now();
    // A window of about one second, measured, not asserted on.
    wait_until([&] { return clock::now() - t0 >= 1000ms; }, 2000ms, 50ms);
    const double secs = ms_between(t0, clock::now()) / 1000.0;
    const long long reads = list_take_calls(cli()) - before;
    EXPECT_LE(reads, static_cast<long long>(secs * (1000.0 / 200.0) * 3 + 6))
        << reads << " list reads in " << secs << " s with 50 waiters on one key";
}

// ------------------------------------------------------------ keyspace events

TEST_F(QueueDelivery, KeyspaceEventsAutoAddsTheListFlags) {
    const auto flags_ok = [&] {
        const auto f = config_get(cli(), "notify-keyspace-events");
        return contains(f, "K") && (contains(f, "l") || contains(f, "A"));
    };
    EXPECT_TRUE(wait_until(flags_ok, 5000ms))
        << "notify-keyspace-events: `" << config_get(cli(), "notify-keyspace-events") << "`";
    auto p = pending("/queue/ks?timeout=20");
    ASSERT_TRUE(wait_waiters(1));
    ASSERT_TRUE(
        wait_until([&] { return cli().numsub("__keyspace@0__:" + qkey("ks")) >= 1; }, 5000ms))
        << "no keyspace subscription for a key with a waiter";
    rpush(cli(), qkey("ks"), {"k"});
    auto r = p->wait(5000ms);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "k");
    p.reset();
    EXPECT_TRUE(
        wait_until([&] { return cli().numsub("__keyspace@0__:" + qkey("ks")) == 0; }, 5000ms))
        << "the keyspace subscription outlived the last waiter";
}

class QueueKeyspaceOff : public queue_test {
    json extra_config() override {
        return {{"redis", {{"keyspace_events", "off"}}}, {"modes", {{"recheck_ms", 200}}}};
    }
};

TEST_F(QueueKeyspaceOff, WithoutNotificationsAMessageArrivesWithinTheRecheck) {
    EXPECT_EQ(config_get(cli(), "notify-keyspace-events"), "") << "\"off\" changed Redis";
    auto p = pending("/queue/off?timeout=20");
    ASSERT_TRUE(wait_waiters(1));
    const auto t0 = clock::now();
    rpush(cli(), qkey("off"), {"o"});
    auto r = p->wait(5000ms);
    ASSERT_TRUE(r) << "not delivered without keyspace notifications";
    EXPECT_EQ(r->body, "o");
    EXPECT_LT(ms_between(t0, clock::now()), 1500.0) << "recheck_ms is 200";
    EXPECT_EQ(config_get(cli(), "notify-keyspace-events"), "");
}

TEST_F(QueueDelivery, AMissedNotificationStrandsNothingLongerThanTheRecheck) {
    auto p = pending("/queue/miss?timeout=20");
    ASSERT_TRUE(wait_waiters(1));
    ASSERT_TRUE(
        wait_until([&] { return cli().numsub("__keyspace@0__:" + qkey("miss")) >= 1; }, 5000ms));
    // Redis stops notifying behind the daemon's back.
    cli().command({"CONFIG", "SET", "notify-keyspace-events", ""});
    const auto t0 = clock::now();
    rpush(cli(), qkey("miss"), {"quiet"});
    auto r = p->wait(5000ms);
    ASSERT_TRUE(r) << "a message without a notification was stranded";
    EXPECT_EQ(r->body, "quiet");
    EXPECT_LT(ms_between(t0, clock::now()), 1500.0) << "recheck_ms is 200";
}

// ------------------------------------------------------------ Redis restart

TEST_F(QueueDelivery, ARedisRestartWhileConsumersWaitNeverHangsThemOrDuplicates) {
    constexpr int kWaiters = 5;
    std::vector<std::unique_ptr<stream_poll>> polls;
    for (int i = 0; i < kWaiters; ++i)
        polls.push_back(pending("/queue/rr?timeout=6"));
    ASSERT_TRUE(wait_waiters(kWaiters));
    const auto t0 = clock::now();
    redis().restart();
    cli_ = std::make_unique<redis_client>(redis().client());
    std::vector<std::string> msgs;
    for (int i = 0; i < kWaiters; ++i)
        msgs.push_back("after" + std::to_string(i));
    rpush(cli(), qkey("rr"), msgs);
    std::multiset<std::string> got;
    for (int i = 0; i < kWaiters; ++i) {
        // 6 s timeout from the start, plus slack: never longer.
        auto r = polls[i]->wait(
            std::chrono::duration_cast<std::chrono::milliseconds>(t0 + 10000ms - clock::now()));
        ASSERT_TRUE(r) << "waiter " << i << " hung past its timeout across the Redis restart";
        if (r->status == 200) {
            got.insert(r->body);
        } else {
            EXPECT_TRUE(r->status == 503 || r->status == 504) << r->status << " " << r->body;
            EXPECT_TRUE(is_error_body(r->body, "Redis unavailable") ||
                        is_error_body(r->body, "Timed out"))
                << r->body;
        }
    }
    // Every message is either delivered once or still in Redis.
    auto left = lrange(cli(), qkey("rr"));
    std::multiset<std::string> all = got;
    all.insert(left.begin(), left.end());
    EXPECT_EQ(all, std::multiset<std::string>(msgs.begin(), msgs.end()));
    // Works again afterwards.
    auto p = pending("/queue/rr2?timeout=10");
    ASSERT_TRUE(wait_waiters(1, 10000ms));
    rpush(cli(), qkey("rr2"), {"fresh"});
    auto r = p->wait(5000ms);
    ASSERT_TRUE(r) << "a waiter after the restart was not served";
    EXPECT_EQ(r->body, "fresh");
}

TEST_F(QueueDelivery, RedisWaitersThatWaitThroughARestartGetMessagesPushedAfterIt) {
    // Redis is back within the waiters' timeout: a waiter that is still
    // waiting (not answered 503) must be served by an RPUSH after the
    // restart, within the re-check.
    auto p = pending("/queue/thru?timeout=15");
    ASSERT_TRUE(wait_waiters(1));
    redis().restart();
    cli_ = std::make_unique<redis_client>(redis().client());
    ASSERT_TRUE(wait_until([&] { return http_get(port(), "/healthz").status == 200; }, 10000ms));
    rpush(cli(), qkey("thru"), {"after-restart"});
    auto r = p->wait(8000ms);
    ASSERT_TRUE(r) << "still waiting 8 s after an RPUSH once Redis was back";
    if (r->status == 200)
        EXPECT_EQ(r->body, "after-restart");
    else
        EXPECT_EQ(r->status, 503) << r->body;
}

} // namespace
