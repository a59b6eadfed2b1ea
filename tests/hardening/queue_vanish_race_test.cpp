// Issue 11: a message taken for a client that is gone before its answer
// was written goes back to the head of the queue (MODES.md 1, 2).
//
// The race made deterministic: `CLIENT PAUSE ... WRITE` holds the daemon's
// take (LPOP, or the take script) inside Redis while the client leaves;
// UNPAUSE lets the take run, and its reply finds nobody to give the message
// to. Nothing is timed: every step waits on what it needs.
#include "common.hpp"

using namespace rpd::test;

namespace {

std::vector<std::string> list_of(redis_client& c, const std::string& key) {
    std::vector<std::string> out;
    for (const auto& e : c.command({"LRANGE", key, "0", "-1"}).elements)
        out.push_back(e.str);
    return out;
}

class QueueVanishRace : public ::testing::Test {
protected:
    redis_server redis;
    daemon_process daemon{redis.port()};
    redis_client client{redis.port()};

    double metric(const std::string& name) { return daemon.metric(name).value_or(-1); }

    // A client waits, its take is held in Redis, then it leaves.
    void take_held_while_the_client_leaves(const std::string& target) {
        const double takes_before = metric("redis_push_queue_takes_total");
        client.command({"CLIENT", "PAUSE", "5000", "WRITE"});
        {
            http_connection waiting(daemon.port());
            ASSERT_TRUE(waiting.send_request("GET", target));
            ASSERT_TRUE(wait_until(
                [&] { return metric("redis_push_queue_takes_total") > takes_before; }, 3000ms));
        }
        ASSERT_TRUE(wait_until([&] { return metric("redis_push_queue_waiters") == 0; }, 3000ms));
        client.command({"CLIENT", "UNPAUSE"});
    }
};

TEST_F(QueueVanishRace, PlainTakeGoesBackToTheHeadInOrder) {
    client.command({"RPUSH", "RA_Q_jobs", "first", "second"});
    take_held_while_the_client_leaves("/queue/jobs?timeout=10");
    ASSERT_TRUE(wait_until(
        [&] {
            return list_of(client, "RA_Q_jobs") == std::vector<std::string>{"first", "second"};
        },
        3000ms))
        << "queue now: " << ::testing::PrintToString(list_of(client, "RA_Q_jobs"));
    EXPECT_EQ(metric("redis_push_messages_requeued_total"), 1);
    // And the next client gets it.
    const auto r = http_get(daemon.port(), "/queue/jobs?timeout=2");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "first");
}

TEST_F(QueueVanishRace, AcknowledgedTakeLeavesNothingInFlight) {
    client.command({"RPUSH", "RA_Q_jobs", "first", "second"});
    take_held_while_the_client_leaves("/queue/jobs?ack&timeout=10");
    ASSERT_TRUE(wait_until(
        [&] {
            return list_of(client, "RA_Q_jobs") == std::vector<std::string>{"first", "second"};
        },
        3000ms))
        << "queue now: " << ::testing::PrintToString(list_of(client, "RA_Q_jobs"));
    // Taken (into in-flight) and put back, not merely left alone.
    EXPECT_TRUE(
        wait_until([&] { return metric("redis_push_messages_requeued_total") == 1; }, 3000ms));
    EXPECT_TRUE(list_of(client, "RA_QI_jobs").empty());
    EXPECT_EQ(client.command({"HLEN", "RA_QD_jobs"}).integer, 0);
    EXPECT_EQ(client.command({"ZCARD", "RA_QT_jobs"}).integer, 0);
}

TEST_F(QueueVanishRace, MailboxDrainGoesBackInOrder) {
    client.command({"RPUSH", "RA_M_alice", "a1", "a2", "a3"});
    client.command({"CLIENT", "PAUSE", "5000", "WRITE"});
    {
        http_connection waiting(daemon.port());
        ASSERT_TRUE(waiting.send_request("GET", "/mailbox/alice?timeout=10"));
        ASSERT_TRUE(wait_until([&] { return metric("redis_push_mailbox_waiters") == 1; }, 3000ms));
    }
    ASSERT_TRUE(wait_until([&] { return metric("redis_push_mailbox_waiters") == 0; }, 3000ms));
    client.command({"CLIENT", "UNPAUSE"});
    ASSERT_TRUE(wait_until(
        [&] {
            return list_of(client, "RA_M_alice") == std::vector<std::string>{"a1", "a2", "a3"};
        },
        3000ms))
        << "mailbox now: " << ::testing::PrintToString(list_of(client, "RA_M_alice"));
    EXPECT_EQ(metric("redis_push_messages_requeued_total"), 3); // taken, then put back
}

} // namespace
