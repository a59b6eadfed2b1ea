// The acknowledged queue mode (MODES.md 1 "Acknowledged mode", 6 Queues):
// LMOVE into RA_QI_<name>, X-Delivery-Id, POST .../ack/<id> (204 / 404),
// redelivery at the head after queue.visibility_timeout_seconds exactly
// once (two daemons), a daemon SIGKILLed right after the take.
#include <csignal>

#include "queues/queue_common.hpp"

using namespace rpd::test;

namespace {

// visibility 1 s, re-check 150 ms: a redelivery is due within ~1.15 s.
class QueueAck : public queue_test {
protected:
    json extra_config() override {
        return {{"queue", {{"visibility_timeout_seconds", 1}}}, {"modes", {{"recheck_ms", 150}}}};
    }
    static constexpr auto kRedeliveryDeadline = 1000ms + 150ms + 3000ms;

    http_response ack(std::uint16_t p, const std::string& name, const std::string& id) {
        return post(p, "/queue/" + name + "/ack/" + id, "");
    }
    http_response ack(const std::string& name, const std::string& id) {
        return ack(port(), name, id);
    }
    // GET ?ack that must deliver `expected`; returns the delivery id.
    std::string take_ack(std::uint16_t p, const std::string& name, const std::string& expected) {
        auto r = http_get(p, "/queue/" + name + "?ack&timeout=0");
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(r.body, expected);
        const auto id = r.header("X-Delivery-Id").value_or("");
        EXPECT_TRUE(is_delivery_id(id)) << "X-Delivery-Id `" << id << "`";
        return id;
    }
};

TEST_F(QueueAck, AnAckedTakeMovesTheMessageInFlightThenAckRemovesIt) {
    rpush(cli(), qkey("a"), {R"({"job":1})", "second"});
    auto r = get("/queue/a?ack");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, R"({"job":1})");
    EXPECT_TRUE(is_json_content_type(r));
    EXPECT_TRUE(has_no_store(r));
    EXPECT_TRUE(has_x_accel_no(r));
    const auto id = r.header("X-Delivery-Id").value_or("");
    ASSERT_TRUE(is_delivery_id(id)) << "X-Delivery-Id `" << id << "` is not [A-Za-z0-9_-]+";
    EXPECT_EQ(lrange(cli(), qkey("a")), std::vector<std::string>{"second"});
    EXPECT_EQ(lrange(cli(), qikey("a")), std::vector<std::string>{R"({"job":1})"})
        << "the message verbatim moves into the in-flight list";

    auto a = ack("a", id);
    EXPECT_EQ(a.status, 204) << a.body;
    EXPECT_TRUE(a.body.empty()) << a.body;
    EXPECT_EQ(llen(cli(), qikey("a")), 0) << "the ack did not remove the in-flight copy";
    EXPECT_EQ(lrange(cli(), qkey("a")), std::vector<std::string>{"second"});

    a = ack("a", id);
    EXPECT_EQ(a.status, 404) << "an already acknowledged delivery";
    EXPECT_TRUE(is_error_body(a.body, "Not Found")) << a.body;
}

TEST_F(QueueAck, UnknownDeliveryIdsAre404) {
    rpush(cli(), qkey("u"), {"m"});
    const auto id = take_ack(port(), "u", "m");
    for (const std::string& bad :
         std::vector<std::string>{"nope", "AAAAAAAAAAAAAAAAAAAAAA", "x-_y"}) {
        auto a = ack("u", bad);
        EXPECT_EQ(a.status, 404) << bad << " -> " << a.body;
        EXPECT_TRUE(is_error_body(a.body, "Not Found")) << bad;
    }
    auto other = ack("other", id);
    EXPECT_EQ(other.status, 404) << "a delivery of queue u acknowledged on queue other";
    EXPECT_EQ(llen(cli(), qikey("u")), 1) << "a wrong ack removed the in-flight message";
    EXPECT_EQ(ack("u", id).status, 204);
}

TEST_F(QueueAck, EachDeliveryHasItsOwnId) {
    rpush(cli(), qkey("ids"), {"a", "b", "c"});
    std::set<std::string> ids;
    for (const std::string& m : std::vector<std::string>{"a", "b", "c"})
        ids.insert(take_ack(port(), "ids", m));
    EXPECT_EQ(ids.size(), 3u);
    EXPECT_EQ(lrange(cli(), qikey("ids")).size(), 3u);
    // Acknowledged out of order: each removes its own message.
    std::vector<std::string> v(ids.begin(), ids.end());
    EXPECT_EQ(ack("ids", v[1]).status, 204);
    EXPECT_EQ(llen(cli(), qikey("ids")), 2);
    EXPECT_EQ(ack("ids", v[0]).status, 204);
    EXPECT_EQ(ack("ids", v[2]).status, 204);
    EXPECT_EQ(llen(cli(), qikey("ids")), 0);
}

TEST_F(QueueAck, AnAckedWaitIsAnsweredByAnRpush) {
    auto p = pending("/queue/aw?ack&timeout=10");
    ASSERT_TRUE(wait_waiters(1));
    rpush(cli(), qkey("aw"), {"late"});
    auto r = p->wait(5000ms);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "late");
    const auto id = r->header("X-Delivery-Id").value_or("");
    EXPECT_TRUE(is_delivery_id(id)) << id;
    EXPECT_EQ(lrange(cli(), qikey("aw")), std::vector<std::string>{"late"});
    EXPECT_EQ(ack("aw", id).status, 204);
    auto t = get("/queue/aw?ack&timeout=0");
    EXPECT_EQ(t.status, 504);
    EXPECT_TRUE(is_error_body(t.body, "Timed out"));
    EXPECT_FALSE(t.has_header("X-Delivery-Id"));
}

TEST_F(QueueAck, AnUnacknowledgedDeliveryComesBackAtTheHeadAfterTheVisibilityTimeout) {
    rpush(cli(), qkey("vis"), {"first"});
    const auto id = take_ack(port(), "vis", "first");
    const auto taken = clock::now();
    rpush(cli(), qkey("vis"), {"second"});
    EXPECT_EQ(lrange(cli(), qkey("vis")), std::vector<std::string>{"second"});
    ASSERT_TRUE(
        wait_until([&] { return llen(cli(), qkey("vis")) == 2; }, kRedeliveryDeadline, 20ms))
        << "not redelivered within visibility_timeout_seconds + recheck_ms";
    const double after_ms = ms_between(taken, clock::now());
    EXPECT_GE(after_ms, 900.0) << "put back before the visibility timeout";
    EXPECT_EQ(lrange(cli(), qkey("vis")), (std::vector<std::string>{"first", "second"}))
        << "back at the head";
    EXPECT_EQ(llen(cli(), qikey("vis")), 0);
    auto a = ack("vis", id);
    EXPECT_EQ(a.status, 404) << "an ack of a delivery that was already put back";
    EXPECT_TRUE(is_error_body(a.body, "Not Found"));
    EXPECT_EQ(llen(cli(), qkey("vis")), 2) << "the late ack removed something";

    const auto id2 = take_ack(port(), "vis", "first");
    EXPECT_NE(id2, id) << "a redelivery has a new delivery id";
    EXPECT_EQ(ack("vis", id2).status, 204);
    EXPECT_GE(counter("redis_push_messages_requeued_total", {"mode=\"queue\""}), 1);
}

TEST_F(QueueAck, AnAcknowledgedDeliveryIsNeverRedelivered) {
    rpush(cli(), qkey("done"), {"m"});
    const auto id = take_ack(port(), "done", "m");
    EXPECT_EQ(ack("done", id).status, 204);
    EXPECT_FALSE(wait_until([&] { return llen(cli(), qkey("done")) > 0; }, 2500ms, 50ms))
        << "an acknowledged message came back";
}

TEST_F(QueueAck, ARedeliveryWakesAWaitingConsumer) {
    rpush(cli(), qkey("wake"), {"w"});
    take_ack(port(), "wake", "w");
    auto p = pending("/queue/wake?timeout=10");
    ASSERT_TRUE(wait_waiters(1));
    auto r = p->wait(kRedeliveryDeadline);
    ASSERT_TRUE(r) << "the put-back message did not reach the waiter";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "w");
}

TEST_F(QueueAck, AnAckedWaiterThatVanishesLosesNothing) {
    auto gone = pending("/queue/gone?ack&timeout=20");
    ASSERT_TRUE(wait_waiters(1));
    close_with_reset(gone->conn());
    rpush(cli(), qkey("gone"), {"kept"});
    // Either it never left the queue, or it comes back after the visibility timeout.
    auto r = get("/queue/gone?ack&timeout=5", {}, 10000ms);
    ASSERT_EQ(r.status, 200) << "the message taken for a vanished acked client is lost";
    EXPECT_EQ(r.body, "kept");
    EXPECT_EQ(ack("gone", r.header("X-Delivery-Id").value_or("")).status, 204);
}

// Two daemons both notice the expired delivery: it comes back once. Two
// plain waiters (one per daemon) would each get a copy if it came back twice.
TEST_F(QueueAck, TwoDaemonsRedeliverExactlyOnce) {
    daemon_process second(redis().port(), daemon_config());
    rpush(cli(), qkey("once"), {"solo"});
    const auto id = take_ack(port(), "once", "solo");
    auto wa = pending("/queue/once?timeout=4");
    stream_poll wb(second.port(), "/queue/once?timeout=4");
    ASSERT_TRUE(wait_waiters(1));
    ASSERT_TRUE(wait_waiters(second, 1));
    auto ra = wa->wait(8000ms);
    auto rb = wb.wait(8000ms);
    ASSERT_TRUE(ra && rb) << "a waiter was not answered";
    const int delivered = (ra->status == 200) + (rb->status == 200);
    EXPECT_EQ(delivered, 1) << "daemon 1: " << ra->status << " " << ra->body
                            << "; daemon 2: " << rb->status << " " << rb->body;
    for (auto* r : {&*ra, &*rb})
        if (r->status == 200)
            EXPECT_EQ(r->body, "solo");
        else
            EXPECT_EQ(r->status, 504);
    EXPECT_EQ(llen(cli(), qkey("once")), 0) << "a second copy was put back";
    EXPECT_EQ(llen(cli(), qikey("once")), 0);
    EXPECT_EQ(ack("once", id).status, 404);
    EXPECT_EQ(ack(second.port(), "once", id).status, 404);
    const double requeued =
        counter("redis_push_messages_requeued_total", {"mode=\"queue\""}) +
        metric_with_labels(second.metrics(), "redis_push_messages_requeued_total",
                           {"mode=\"queue\""})
            .value_or(0);
    EXPECT_EQ(requeued, 1) << "requeued counted by both daemons together";
}

TEST_F(QueueAck, AnAckOnTheOtherDaemonIsAccepted) {
    daemon_process second(redis().port(), daemon_config());
    rpush(cli(), qkey("x"), {"m"});
    const auto id = take_ack(port(), "x", "m");
    auto a = ack(second.port(), "x", id);
    EXPECT_EQ(a.status, 204) << "the delivery lives in Redis, not in one daemon: " << a.body;
    EXPECT_EQ(llen(cli(), qikey("x")), 0);
    EXPECT_FALSE(wait_until([&] { return llen(cli(), qkey("x")) > 0; }, 2000ms, 50ms))
        << "redelivered although acknowledged on the other daemon";
}

// The daemon dies right after the take (the message is in RA_QI_): the
// message comes back after the visibility timeout and a second daemon
// delivers it.
TEST_F(QueueAck, ADaemonKilledAfterTheTakeLosesNothing) {
    daemon_process second(redis().port(), daemon_config());
    auto p = pending("/queue/kill?ack&timeout=10");
    ASSERT_TRUE(wait_waiters(1));
    rpush(cli(), qkey("kill"), {"survivor"});
    ASSERT_TRUE(wait_until(
        [&] {
            auto v = lrange(cli(), qikey("kill"));
            return std::find(v.begin(), v.end(), "survivor") != v.end();
        },
        5000ms, 1ms))
        << "the message never reached " << qikey("kill");
    daemon().signal(SIGKILL);
    ASSERT_TRUE(daemon().wait_exit(5000ms));
    p.reset();
    auto r = http_get(second.port(), "/queue/kill?ack&timeout=8", {}, 12000ms);
    ASSERT_EQ(r.status, 200) << "the second daemon never got the message back: " << r.body
                             << "; queue " << llen(cli(), qkey("kill")) << ", in flight "
                             << llen(cli(), qikey("kill"));
    EXPECT_EQ(r.body, "survivor");
    EXPECT_EQ(ack(second.port(), "kill", r.header("X-Delivery-Id").value_or("")).status, 204);
    EXPECT_EQ(llen(cli(), qikey("kill")), 0);
    EXPECT_EQ(llen(cli(), qkey("kill")), 0);
}

constexpr const char* kSecret = "ack-secret";

class QueueAckSigned : public QueueAck {
    json extra_config() override {
        json c = QueueAck::extra_config();
        c["task"] = {{"signing_secret", kSecret}};
        return c;
    }
};

TEST_F(QueueAckSigned, TheAckPathNeedsTheSignedName) {
    rpush(cli(), qkey("s"), {"m"});
    const auto seg = signed_queue(kSecret, "s");
    const auto id = take_ack(port(), seg, "m");
    auto a = ack("s", id);
    EXPECT_EQ(a.status, 403) << a.body;
    EXPECT_TRUE(is_error_body(a.body, "Invalid signature"));
    a = ack("s." + hmac_b64url(kSecret, "mailbox:s", 16), id);
    EXPECT_EQ(a.status, 403) << "a mailbox signature";
    EXPECT_EQ(ack(seg, id).status, 204);
}

} // namespace
