#pragma once

// Drives a tasks::watch_machine the way the shell (tasks::watch) does: an
// input, then next() until none; every action is written down as text, so a
// test reads as the protocol's steps. No Redis, no sockets.

#include "redis_push/tasks/watch_machine.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace watch_machine_test {

using rpd::tasks::watch_machine;
using action = watch_machine::action;
using purpose = watch_machine::read_purpose;
using result = watch_machine::read_result;
using steps = std::vector<std::string>;

inline constexpr std::string_view me = "11111111-1111-4111-8111-111111111111";
inline constexpr std::string_view pending = R"({"status":"pending"})";
inline constexpr std::string_view done_value = R"({"status":"done","result":42})";
inline constexpr std::string_view own_kill =
    R"({"status":"kill","src":"11111111-1111-4111-8111-111111111111"})";
inline constexpr std::string_view other_kill = R"({"status":"kill","src":"someone-else"})";

inline std::string text(const action& a) {
    switch (a.type) {
    case action::kind::none:
        return "none";
    case action::kind::subscribe:
        return "subscribe";
    case action::kind::read:
        return a.purpose == purpose::initial        ? "read initial"
               : a.purpose == purpose::after_update ? "read after_update"
                                                    : "read after_reconnect";
    case action::kind::publish_kill:
        return "publish kill";
    case action::kind::open:
        return "open";
    case action::kind::event:
        return "event " + std::string(a.event_type) + " " + std::string(a.text);
    case action::kind::ignored:
        return "ignored " + std::string(a.text);
    case action::kind::finish: {
        std::string s = "finish " + std::string(rpd::feed::describe(a.reason).metric_label);
        return a.text.empty() ? s : s + " " + std::string(a.text);
    }
    }
    return "?";
}

// The actions an input led to: `a`, then next()'s until none.
inline steps drain_of(watch_machine& m, action a) {
    steps out;
    for (; a; a = m.next())
        out.push_back(text(a));
    return out;
}

class harness {
public:
    explicit harness(bool follow) : follow_(follow), m(follow, me) {}

    steps drain(action a) { return drain_of(m, a); }
    steps start(bool ready = true, bool shutting = false) {
        return drain(m.start(ready, shutting));
    }
    steps subscribed() { return drain(m.subscribed()); }
    steps value(purpose p, std::string_view v) {
        return drain(m.read_reply(p, {result::kind::value, v}));
    }
    steps nil(purpose p) { return drain(m.read_reply(p, {result::kind::nil, {}})); }
    steps error(purpose p) { return drain(m.read_reply(p, {result::kind::error, "ERR x"})); }
    steps down(purpose p) { return drain(m.read_reply(p, {result::kind::unavailable, {}})); }
    steps published(bool ok = true) { return drain(m.publish_reply(ok)); }
    steps msg(std::string_view payload) { return drain(m.message(payload)); }
    steps timer() { return drain(m.timer_fired()); }
    steps recheck() { return drain(m.recheck()); }
    steps shutdown() { return drain(m.shutdown()); }

    // Up to the PUBLISH of our kill, its reply not yet back.
    void announce(std::string_view initial = pending) {
        ASSERT_EQ(start(), steps{"subscribe"});
        ASSERT_EQ(subscribed(), steps{"read initial"});
        ASSERT_EQ(value(purpose::initial, initial), steps{"publish kill"});
    }
    // What establishment sends: a following watch's first event is the
    // value read at start.
    steps opening(std::string_view initial = pending) const {
        if (!follow_)
            return {"open"};
        return {"open", "event update " + std::string(initial)};
    }
    // Established, with our own kill's echo back (other kills count now).
    void establish() {
        announce();
        ASSERT_EQ(published(), opening());
        ASSERT_EQ(msg(own_kill), steps{});
        ASSERT_TRUE(m.established());
    }

    // Nothing at all comes out any more, whatever happens.
    void expect_silent() {
        EXPECT_EQ(start(), steps{});
        EXPECT_EQ(subscribed(), steps{});
        for (auto p : {purpose::initial, purpose::after_update, purpose::after_reconnect}) {
            EXPECT_EQ(value(p, done_value), steps{});
            EXPECT_EQ(nil(p), steps{});
            EXPECT_EQ(error(p), steps{});
            EXPECT_EQ(down(p), steps{});
        }
        EXPECT_EQ(published(), steps{});
        EXPECT_EQ(msg(R"({"status":"update","data":1})"), steps{});
        EXPECT_EQ(msg(R"({"status":"done"})"), steps{});
        EXPECT_EQ(msg(other_kill), steps{});
        EXPECT_EQ(msg("not json"), steps{});
        EXPECT_EQ(timer(), steps{});
        EXPECT_EQ(recheck(), steps{});
        EXPECT_EQ(shutdown(), steps{});
        EXPECT_EQ(drain(m.next()), steps{});
        EXPECT_TRUE(m.finished());
    }

    bool follow_;
    watch_machine m;
};

class one_shot : public ::testing::Test, public harness {
protected:
    one_shot() : harness(false) {}
};

class following : public ::testing::Test, public harness {
protected:
    following() : harness(true) {}
};

} // namespace watch_machine_test
