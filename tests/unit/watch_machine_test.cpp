// Unit tests of tasks::watch_machine: what both modes share (everything up
// to establishment, kills, time-out, shutdown, cancel) and the classic
// one-shot watch (PROTOCOL.md "Watch"). The following (SSE) mode's own
// steps are in watch_machine_follow_test.cpp.

#include "watch_machine_harness.hpp"

namespace watch_machine_test {
namespace {

const std::string update_with_data = R"({"status":"update","data":{"progress":50}})";
const std::string done_with_data = R"({"status":"done","data":{"result":1}})";
const std::string update_no_data = R"({"status":"update"})";

// ---- both modes --------------------------------------------------------------------

class both_modes : public ::testing::TestWithParam<bool>, public harness {
protected:
    both_modes() : harness(GetParam()) {}
};

INSTANTIATE_TEST_SUITE_P(WatchMachine, both_modes, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "follow" : "one_shot"; });

TEST_P(both_modes, SubscribesThenReadsThenAnnouncesThenOpens) {
    EXPECT_EQ(start(), steps{"subscribe"});
    EXPECT_EQ(subscribed(), steps{"read initial"});
    EXPECT_EQ(value(purpose::initial, pending), steps{"publish kill"});
    EXPECT_FALSE(m.established()); // the head waits for Redis to take the kill
    EXPECT_EQ(published(), opening());
    EXPECT_TRUE(m.established());
}

TEST_P(both_modes, RedisDownAtStart) {
    EXPECT_EQ(start(false), steps{"finish unavailable"});
    expect_silent();
}

TEST_P(both_modes, ShuttingDownAtStartWinsOverRedisDown) {
    EXPECT_EQ(start(false, true), steps{"finish shutting_down"});
    expect_silent();
}

TEST_P(both_modes, InitialReadAnswers) {
    struct row {
        result r;
        steps want;
    };
    const row rows[] = {
        {{result::kind::nil, {}}, {"finish not_found"}},
        {{result::kind::error, "ERR"}, {"finish unavailable"}},
        {{result::kind::unavailable, {}}, {"finish unavailable"}},
        {{result::kind::value, "not json"}, {"finish invalid_json"}},
        {{result::kind::value, R"({"status":"done")"}, {"finish invalid_json"}},
        {{result::kind::value, done_value}, {"finish found " + std::string(done_value)}},
    };
    for (const auto& [r, want] : rows) {
        watch_machine fresh(GetParam(), me);
        ASSERT_TRUE(fresh.start(true, false));
        ASSERT_EQ(text(fresh.subscribed()), "read initial");
        EXPECT_EQ(drain_of(fresh, fresh.read_reply(purpose::initial, r)), want) << r.value;
        EXPECT_TRUE(fresh.finished());
    }
}

TEST_P(both_modes, MessagesBeforeTheChannelIsConfirmedAreDropped) {
    ASSERT_EQ(start(), steps{"subscribe"});
    EXPECT_EQ(msg(update_with_data), steps{});
    EXPECT_EQ(msg(other_kill), steps{});
    EXPECT_EQ(subscribed(), steps{"read initial"});
    EXPECT_EQ(value(purpose::initial, pending), steps{"publish kill"});
    EXPECT_EQ(published(), opening());
}

TEST_P(both_modes, KillsBeforeOurOwnEchoAreFromOlderWatches) {
    announce();
    EXPECT_EQ(msg(other_kill), steps{});
    EXPECT_EQ(published(), opening());
    EXPECT_EQ(msg(other_kill), steps{}); // still before our echo
    EXPECT_EQ(msg(R"({"status":"kill"})"), steps{});
    EXPECT_EQ(msg(own_kill), steps{});
    EXPECT_EQ(msg(other_kill), steps{"finish killed"});
    expect_silent();
}

TEST_P(both_modes, KillWithoutSourceKillsOnceKillable) {
    establish();
    EXPECT_EQ(msg(R"({"status":"kill"})"), steps{"finish killed"});
}

TEST_P(both_modes, OurOwnKillNeverKillsUs) {
    establish();
    EXPECT_EQ(msg(own_kill), steps{});
    EXPECT_TRUE(m.established());
}

TEST_P(both_modes, UnpublishedKillMakesKillableAtOnce) {
    announce();
    EXPECT_EQ(published(false), opening()); // no echo will come
    EXPECT_EQ(msg(other_kill), steps{"finish killed"});
}

TEST_P(both_modes, ResubscribedWhileAnnouncingIsKillableWithoutReread) {
    announce();
    EXPECT_EQ(subscribed(), steps{}); // our echo may be lost
    EXPECT_EQ(msg(other_kill), steps{"finish killed"});
}

TEST_P(both_modes, IgnoredMessagesChangeNothing) {
    establish();
    EXPECT_EQ(msg("not json"), steps{"ignored not json"});
    EXPECT_EQ(msg(R"({"status":"pending"})"), steps{R"(ignored {"status":"pending"})"});
    EXPECT_EQ(msg("[1]"), steps{"ignored [1]"});
    EXPECT_TRUE(m.established());
}

TEST_P(both_modes, ReconnectRereadsAndKeepsWaitingUnlessDone) {
    establish();
    EXPECT_EQ(subscribed(), steps{"read after_reconnect"});
    EXPECT_EQ(value(purpose::after_reconnect, pending), steps{});
    EXPECT_EQ(nil(purpose::after_reconnect), steps{});
    EXPECT_EQ(error(purpose::after_reconnect), steps{});
    EXPECT_EQ(down(purpose::after_reconnect), steps{});
    EXPECT_EQ(recheck(), steps{"read after_reconnect"});
    EXPECT_TRUE(m.established());
}

TEST_P(both_modes, RecheckBeforeEstablishmentDoesNothing) {
    EXPECT_EQ(recheck(), steps{});
    ASSERT_EQ(start(), steps{"subscribe"});
    EXPECT_EQ(recheck(), steps{});
    ASSERT_EQ(subscribed(), steps{"read initial"});
    EXPECT_EQ(recheck(), steps{});
    ASSERT_EQ(value(purpose::initial, pending), steps{"publish kill"});
    EXPECT_EQ(recheck(), steps{});
}

TEST_P(both_modes, TimeOut) {
    establish();
    EXPECT_EQ(timer(), steps{"finish timed_out"});
    expect_silent();
}

TEST_P(both_modes, ShutdownAtAnyPhase) {
    EXPECT_EQ(shutdown(), steps{}); // not started: nothing to end
    ASSERT_EQ(start(), steps{"subscribe"});
    EXPECT_EQ(shutdown(), steps{"finish shutting_down"});
    expect_silent();

    watch_machine waiting(GetParam(), me);
    ASSERT_TRUE(waiting.start(true, false));
    ASSERT_TRUE(waiting.subscribed());
    ASSERT_TRUE(waiting.read_reply(purpose::initial, {result::kind::value, pending}));
    ASSERT_TRUE(waiting.publish_reply(true));
    EXPECT_EQ(drain_of(waiting, waiting.shutdown()), steps{"finish shutting_down"});
}

TEST_P(both_modes, CancelAtAnyPhaseSilencesEverything) {
    // Each prefix of a watch's life, then cancel.
    for (int phase = 0; phase < 6; ++phase) {
        watch_machine fresh(GetParam(), me);
        if (phase > 0) {
            ASSERT_TRUE(fresh.start(true, false));
        }
        if (phase > 1) {
            ASSERT_TRUE(fresh.subscribed());
        }
        if (phase > 2) {
            ASSERT_TRUE(fresh.read_reply(purpose::initial, {result::kind::value, pending}));
        }
        if (phase > 3) {
            drain_of(fresh, fresh.publish_reply(true));
        }
        if (phase > 4) {
            ASSERT_EQ(text(fresh.message(update_no_data)), "read after_update");
        }
        fresh.cancel();
        m = std::move(fresh);
        expect_silent();
    }
}

// ---- one-shot ------------------------------------------------------------------------

TEST_F(one_shot, UpdateOrDoneWithDataIsTheAnswerVerbatim) {
    establish();
    EXPECT_EQ(msg(update_with_data), steps{"finish delivered " + update_with_data});
    expect_silent();
}

TEST_F(one_shot, DoneWithData) {
    establish();
    EXPECT_EQ(msg(done_with_data), steps{"finish delivered " + done_with_data});
}

TEST_F(one_shot, UpdateWithoutDataReadsTheKey) {
    establish();
    EXPECT_EQ(msg(update_no_data), steps{"read after_update"});
    // The value is the answer as it is, done or not.
    EXPECT_EQ(value(purpose::after_update, pending),
              steps{"finish delivered " + std::string(pending)});
}

TEST_F(one_shot, UpdateReadMissingOrFailing) {
    establish();
    ASSERT_EQ(msg(R"({"status":"done","data":null})"), steps{"read after_update"});
    EXPECT_EQ(nil(purpose::after_update), steps{"finish not_found"});

    harness other(false);
    other.establish();
    ASSERT_EQ(other.msg(update_no_data), steps{"read after_update"});
    EXPECT_EQ(other.error(purpose::after_update), steps{"finish unavailable"});
}

TEST_F(one_shot, UpdateUnreadWhileRedisIsDownIsReadAgainOnRecheck) {
    establish();
    ASSERT_EQ(msg(update_no_data), steps{"read after_update"});
    EXPECT_EQ(down(purpose::after_update), steps{});
    EXPECT_EQ(subscribed(), steps{"read after_update"}); // a subscriber reconnect too
    EXPECT_EQ(down(purpose::after_update), steps{});
    EXPECT_EQ(recheck(), steps{"read after_update"});
    EXPECT_EQ(value(purpose::after_update, pending),
              steps{"finish delivered " + std::string(pending)});
}

TEST_F(one_shot, ReconnectFindingDoneDelivers) {
    establish();
    ASSERT_EQ(recheck(), steps{"read after_reconnect"});
    EXPECT_EQ(value(purpose::after_reconnect, done_value),
              steps{"finish delivered " + std::string(done_value)});
}

TEST_F(one_shot, EarlyMessageIsAppliedOnceEstablishedLatestWins) {
    ASSERT_EQ(start(), steps{"subscribe"});
    ASSERT_EQ(subscribed(), steps{"read initial"});
    EXPECT_EQ(msg(R"({"status":"update","data":1})"), steps{}); // during the read
    ASSERT_EQ(value(purpose::initial, pending), steps{"publish kill"});
    EXPECT_EQ(msg(R"({"status":"update","data":2})"), steps{}); // while announcing
    EXPECT_EQ(published(), (steps{"open", R"(finish delivered {"status":"update","data":2})"}));
}

TEST_F(one_shot, EarlyRereadReadsOnceEstablished) {
    announce();
    EXPECT_EQ(msg(update_no_data), steps{});
    EXPECT_EQ(published(), (steps{"open", "read after_update"}));
}

TEST_F(one_shot, EarlyMessageDroppedWhenTheTaskWasAlreadyDone) {
    ASSERT_EQ(start(), steps{"subscribe"});
    ASSERT_EQ(subscribed(), steps{"read initial"});
    EXPECT_EQ(msg(update_with_data), steps{});
    EXPECT_EQ(value(purpose::initial, done_value),
              steps{"finish found " + std::string(done_value)});
    expect_silent();
}

TEST_F(one_shot, WhileAnUpdateIsReadTheFirstAnswerWins) {
    establish();
    ASSERT_EQ(msg(update_no_data), steps{"read after_update"});
    EXPECT_EQ(msg(update_with_data), steps{"finish delivered " + update_with_data});
    EXPECT_EQ(value(purpose::after_update, pending), steps{});

    harness killed(false);
    killed.establish();
    ASSERT_EQ(killed.msg(update_no_data), steps{"read after_update"});
    EXPECT_EQ(killed.msg(other_kill), steps{"finish killed"});
}

} // namespace
} // namespace watch_machine_test
