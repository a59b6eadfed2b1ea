// Operations of the queue and mailbox modes (MODES.md 5; 6 Config,
// Metrics): the metrics, the config keys and their ranges (exit 2 naming
// the key), /healthz unaffected.
#include "queues/queue_common.hpp"

using namespace rpd::test;

namespace {

class QueueOps : public queue_test {};

TEST_F(QueueOps, MetricsAreExposedWithHelpAndType) {
    const auto text = daemon().metrics();
    for (const std::string& name : std::vector<std::string>{
             "redis_push_queue_waiters", "redis_push_mode_requests_total",
             "redis_push_messages_delivered_total", "redis_push_messages_requeued_total"}) {
        EXPECT_TRUE(contains(text, "# TYPE " + name + " ")) << name << " missing:\n" << text;
        EXPECT_TRUE(contains(text, "# HELP " + name + " ")) << name;
    }
    EXPECT_TRUE(contains(text, "# TYPE redis_push_queue_waiters gauge"));
    EXPECT_TRUE(contains(text, "# TYPE redis_push_messages_delivered_total counter"));
}

TEST_F(QueueOps, TheWaiterGaugeFollowsWaitingRequests) {
    EXPECT_EQ(waiters(), 0);
    auto a = pending("/queue/g?timeout=10");
    auto b = pending("/queue/g?timeout=10");
    ASSERT_TRUE(wait_waiters(2)) << waiters();
    rpush(cli(), qkey("g"), {"1"});
    ASSERT_TRUE(a->wait(5000ms));
    EXPECT_TRUE(wait_until([&] { return waiters() == 1; }, 3000ms)) << waiters();
    b->conn().close();
    EXPECT_TRUE(wait_until([&] { return waiters() == 0; }, 3000ms))
        << "a vanished waiter is still counted: " << waiters();
}

TEST_F(QueueOps, CountersCountRequestsAndDeliveriesPerMode) {
    rpush(cli(), qkey("c"), {"1", "2"});
    rpush(cli(), mkey("c"), {"a", "b", "c"});
    EXPECT_EQ(get("/queue/c").status, 200);
    EXPECT_EQ(get("/queue/c?ack").status, 200);
    EXPECT_EQ(get("/queue/c?timeout=0").status, 504);
    EXPECT_EQ(get("/queue/a%20b").status, 400);
    EXPECT_EQ(get("/mailbox/c").status, 200);
    EXPECT_EQ(get("/mailbox/c?timeout=0").status, 504);
    const auto text = daemon().metrics();
    EXPECT_EQ(metric_with_labels(text, "redis_push_messages_delivered_total", {"mode=\"queue\""})
                  .value_or(0),
              2)
        << text;
    EXPECT_EQ(metric_with_labels(text, "redis_push_messages_delivered_total", {"mode=\"mailbox\""})
                  .value_or(0),
              3)
        << "a mailbox drain of three messages delivers three";
    double queue_requests = 0, mailbox_requests = 0;
    std::size_t pos = 0;
    while ((pos = text.find("redis_push_mode_requests_total{", pos)) != std::string::npos) {
        const auto end = text.find('\n', pos);
        const std::string line = text.substr(pos, end - pos);
        EXPECT_TRUE(contains(line, "outcome=\"")) << line;
        const double v = std::stod(line.substr(line.rfind(' ') + 1));
        if (contains(line, "mode=\"queue\""))
            queue_requests += v;
        if (contains(line, "mode=\"mailbox\""))
            mailbox_requests += v;
        pos = end;
    }
    EXPECT_GE(queue_requests, 4) << text;
    EXPECT_GE(mailbox_requests, 2) << text;
}

// ------------------------------------------------------------ config

class QueueConfig : public ::testing::Test {
protected:
    run_result check(const json& config) {
        const auto path = dir_.file("c" + std::to_string(n_++) + ".json");
        write_file(path, config.dump());
        return run_command({daemon_binary(), "--config", path, "--check-config"}, 10000ms);
    }
    temp_dir dir_;
    int n_ = 0;
};

TEST_F(QueueConfig, EveryNewKeyIsAccepted) {
    const json good = {{"queue",
                        {{"enabled", true},
                         {"timeout_seconds", 0},
                         {"max_timeout_seconds", 86400},
                         {"name_pattern", "^[a-z]+$"},
                         {"visibility_timeout_seconds", 1},
                         {"allow_publish", true},
                         {"max_message_bytes", 16777216}}},
                       {"mailbox",
                        {{"enabled", false},
                         {"key_prefix", ""},
                         {"notify_list", "watch"},
                         {"timeout_seconds", 86400},
                         {"max_timeout_seconds", 1},
                         {"name_pattern", ".*"}}},
                       {"modes", {{"recheck_ms", 50}}},
                       {"redis", {{"keyspace_events", "off"}}}};
    auto r = check(good);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = check({{"modes", {{"recheck_ms", 60000}}},
               {"redis", {{"keyspace_events", "auto"}}},
               {"queue", {{"max_message_bytes", 1024}, {"visibility_timeout_seconds", 86400}}}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(QueueConfig, BadValuesExit2NamingTheKey) {
    const std::vector<std::pair<json, std::string>> cases = {
        {{{"queue", {{"visibility_timeout_seconds", 0}}}}, "queue.visibility_timeout_seconds"},
        {{{"queue", {{"visibility_timeout_seconds", 86401}}}}, "queue.visibility_timeout_seconds"},
        {{{"queue", {{"max_message_bytes", 1023}}}}, "queue.max_message_bytes"},
        {{{"queue", {{"max_message_bytes", 16777217}}}}, "queue.max_message_bytes"},
        {{{"queue", {{"timeout_seconds", -1}}}}, "queue.timeout_seconds"},
        {{{"queue", {{"max_timeout_seconds", 0}}}}, "queue.max_timeout_seconds"},
        {{{"queue", {{"allow_publish", "yes"}}}}, "queue.allow_publish"},
        {{{"queue", {{"enabled", 1}}}}, "queue.enabled"},
        {{{"queue", {{"name_pattern", "(["}}}}, "queue.name_pattern"},
        {{{"queue", {{"bogus", 1}}}}, "queue.bogus"},
        {{{"mailbox", {{"key_prefix", 5}}}}, "mailbox.key_prefix"},
        {{{"mailbox", {{"notify_list", json::array()}}}}, "mailbox.notify_list"},
        {{{"mailbox", {{"timeout_seconds", 86401}}}}, "mailbox.timeout_seconds"},
        {{{"mailbox", {{"name_pattern", "(unclosed"}}}}, "mailbox.name_pattern"},
        {{{"mailbox", {{"visibility_timeout_seconds", 5}}}}, "mailbox.visibility_timeout_seconds"},
        {{{"modes", {{"recheck_ms", 49}}}}, "modes.recheck_ms"},
        {{{"modes", {{"recheck_ms", 60001}}}}, "modes.recheck_ms"},
        {{{"redis", {{"keyspace_events", "on"}}}}, "redis.keyspace_events"},
    };
    for (auto& [config, key] : cases) {
        auto r = check(config);
        EXPECT_EQ(r.exit_code, 2) << config.dump() << "\n" << r.err;
        EXPECT_TRUE(contains(r.err, key)) << config.dump() << " -> " << r.err;
    }
}

} // namespace
