// Unit tests of tasks::watch_machine following a task (MODES.md "Tasks over
// SSE"): once established, every state is an event, in the order of the
// channel's messages, until "done". What both modes share is tested in
// watch_machine_test.cpp.

#include "watch_machine_harness.hpp"

namespace watch_machine_test {
namespace {

const std::string update_1 = R"({"status":"update","data":1})";
const std::string update_2 = R"({"status":"update","data":2})";
const std::string done_with_data = R"({"status":"done","data":"ok"})";
const std::string update_no_data = R"({"status":"update"})";
const std::string done_no_data = R"({"status":"done"})";
constexpr std::string_view progress = R"({"status":"running","progress":60})";

std::string ev(std::string_view type, std::string_view data) {
    return "event " + std::string(type) + " " + std::string(data);
}

TEST_F(following, OpensWithTheValueReadAtStart) {
    announce(progress);
    EXPECT_EQ(published(), (steps{"open", ev("update", progress)}));
}

TEST_F(following, MessagesWithDataAreEventsVerbatimUntilDone) {
    establish();
    EXPECT_EQ(msg(update_1), steps{ev("update", update_1)});
    EXPECT_EQ(msg(update_2), steps{ev("update", update_2)});
    EXPECT_EQ(msg(done_with_data), (steps{ev("done", done_with_data), "finish delivered"}));
    expect_silent();
}

TEST_F(following, MessagesWithoutDataReadTheKey) {
    establish();
    EXPECT_EQ(msg(update_no_data), steps{"read after_update"});
    EXPECT_EQ(value(purpose::after_update, progress), steps{ev("update", progress)});
    EXPECT_EQ(msg(done_no_data), steps{"read after_update"});
    EXPECT_EQ(value(purpose::after_update, done_value),
              (steps{ev("done", done_value), "finish delivered"}));
}

TEST_F(following, TheEventIsNamedAfterTheMessageNotTheValue) {
    establish();
    ASSERT_EQ(msg(update_no_data), steps{"read after_update"});
    EXPECT_EQ(value(purpose::after_update, done_value), steps{ev("update", done_value)});
    EXPECT_TRUE(m.established());
    ASSERT_EQ(msg(R"({"status":"done","data":null})"), steps{"read after_update"});
    EXPECT_EQ(value(purpose::after_update, progress),
              (steps{ev("done", progress), "finish delivered"}));
}

TEST_F(following, KeyGoneOrFailingOnARead) {
    establish();
    ASSERT_EQ(msg(update_no_data), steps{"read after_update"});
    EXPECT_EQ(nil(purpose::after_update), steps{"finish not_found"});

    harness other(true);
    other.establish();
    ASSERT_EQ(other.msg(update_no_data), steps{"read after_update"});
    EXPECT_EQ(other.error(purpose::after_update), steps{"finish unavailable"});
}

TEST_F(following, MessagesWaitForAnEarlierReadToKeepTheirOrder) {
    establish();
    ASSERT_EQ(msg(update_no_data), steps{"read after_update"});
    EXPECT_EQ(msg(update_1), steps{});
    EXPECT_EQ(msg(update_no_data), steps{});
    EXPECT_EQ(msg(update_2), steps{});
    EXPECT_EQ(value(purpose::after_update, progress),
              (steps{ev("update", progress), ev("update", update_1), "read after_update"}));
    EXPECT_EQ(value(purpose::after_update, pending),
              (steps{ev("update", pending), ev("update", update_2)}));
    EXPECT_EQ(msg(update_1), steps{ev("update", update_1)}); // nothing queued any more
}

TEST_F(following, NothingAfterTheDoneEvent) {
    establish();
    ASSERT_EQ(msg(update_no_data), steps{"read after_update"});
    EXPECT_EQ(msg(done_with_data), steps{});
    EXPECT_EQ(msg(update_1), steps{});
    EXPECT_EQ(value(purpose::after_update, progress),
              (steps{ev("update", progress), ev("done", done_with_data), "finish delivered"}));
    expect_silent();
}

TEST_F(following, UpdateUnreadWhileRedisIsDownIsReadOnceOnRecheck) {
    establish();
    ASSERT_EQ(msg(done_no_data), steps{"read after_update"});
    EXPECT_EQ(down(purpose::after_update), steps{});
    EXPECT_EQ(msg(update_1), steps{}); // waits for the unread one
    EXPECT_EQ(recheck(), steps{"read after_update"});
    // A second recheck must not read the same update twice.
    EXPECT_EQ(subscribed(), steps{"read after_reconnect"});
    EXPECT_EQ(value(purpose::after_update, done_value),
              (steps{ev("done", done_value), "finish delivered"}));
    EXPECT_EQ(value(purpose::after_reconnect, done_value), steps{});
}

TEST_F(following, UnreadUpdateThenItsQueuedFollowers) {
    establish();
    ASSERT_EQ(msg(update_no_data), steps{"read after_update"});
    ASSERT_EQ(down(purpose::after_update), steps{});
    ASSERT_EQ(msg(update_2), steps{});
    EXPECT_EQ(recheck(), steps{"read after_update"});
    EXPECT_EQ(value(purpose::after_update, progress),
              (steps{ev("update", progress), ev("update", update_2)}));
}

TEST_F(following, EarlyMessagesAllFollowTheFirstEventInOrder) {
    ASSERT_EQ(start(), steps{"subscribe"});
    ASSERT_EQ(subscribed(), steps{"read initial"});
    EXPECT_EQ(msg(update_1), steps{});
    EXPECT_EQ(msg(update_no_data), steps{});
    ASSERT_EQ(value(purpose::initial, pending), steps{"publish kill"});
    EXPECT_EQ(msg(update_2), steps{});
    EXPECT_EQ(published(),
              (steps{"open", ev("update", pending), ev("update", update_1), "read after_update"}));
    EXPECT_EQ(value(purpose::after_update, progress),
              (steps{ev("update", progress), ev("update", update_2)}));
}

TEST_F(following, ReconnectFindingDoneEndsWithTheDoneEvent) {
    establish();
    ASSERT_EQ(subscribed(), steps{"read after_reconnect"});
    EXPECT_EQ(value(purpose::after_reconnect, progress), steps{}); // no event: not a message
    ASSERT_EQ(recheck(), steps{"read after_reconnect"});
    EXPECT_EQ(value(purpose::after_reconnect, done_value),
              (steps{ev("done", done_value), "finish delivered"}));
}

TEST_F(following, KillDropsWhatWasQueued) {
    establish();
    ASSERT_EQ(msg(update_no_data), steps{"read after_update"});
    ASSERT_EQ(msg(update_1), steps{});
    EXPECT_EQ(msg(other_kill), steps{"finish killed"});
    expect_silent();
}

TEST_F(following, TimeOutAndShutdownWhileEventsAreQueued) {
    establish();
    ASSERT_EQ(msg(update_no_data), steps{"read after_update"});
    ASSERT_EQ(msg(update_1), steps{});
    EXPECT_EQ(timer(), steps{"finish timed_out"});

    harness other(true);
    other.establish();
    EXPECT_EQ(other.msg(update_1), steps{ev("update", update_1)});
    EXPECT_EQ(other.shutdown(), steps{"finish shutting_down"});
}

// The shell performs one action at a time; whatever happens between two
// (the sink dropping its handle, a shutdown) decides what next() gives.
TEST_F(following, CancelBetweenActions) {
    announce();
    const action open = m.publish_reply(true);
    ASSERT_EQ(text(open), "open");
    m.cancel(); // the client left while the head went out
    EXPECT_EQ(text(m.next()), "none");
    expect_silent();
}

TEST_F(following, ShutdownBetweenActions) {
    announce();
    ASSERT_EQ(text(m.publish_reply(true)), "open");
    EXPECT_EQ(shutdown(), steps{"finish shutting_down"});
    EXPECT_EQ(text(m.next()), "none");
}

TEST_F(following, AHeldTextOutlivesCancel) {
    announce(progress);
    ASSERT_EQ(text(m.publish_reply(true)), "open");
    const action first = m.next(); // points into the machine's copy of the value
    EXPECT_EQ(text(first), ev("update", progress));
    m.cancel(); // the sink dropped its handle inside event()
    EXPECT_EQ(text(first), ev("update", progress));
    EXPECT_EQ(text(m.next()), "none");
}

} // namespace
} // namespace watch_machine_test
