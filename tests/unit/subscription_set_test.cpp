// Unit tests of redis::subscription_set, the pure bookkeeping behind one
// subscriber connection (spec section 4: shared subscriptions, the last
// listener unsubscribing, re-subscribing after a reconnect).

#include "redis_push/redis/subscription.hpp"
#include "redis_push/redis/subscription_set.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using rpd::redis::channel_entry;
using rpd::redis::subscription_set;
using state = channel_entry::server_state;
using names = std::vector<std::string>;

struct dummy_listener final : rpd::redis::channel_listener {
    void on_subscribed() override { ++subscribed; }
    void on_message(std::string_view payload) override { messages.emplace_back(payload); }
    int subscribed = 0;
    std::vector<std::string> messages;
};

names sorted(names v) {
    std::sort(v.begin(), v.end());
    return v;
}

class SubscriptionSet : public ::testing::Test {
protected:
    subscription_set set;
    dummy_listener l1, l2, l3;
};

TEST_F(SubscriptionSet, StartsEmpty) {
    EXPECT_EQ(set.size(), 0u);
    EXPECT_FALSE(set.has_queued());
    EXPECT_TRUE(set.take_batch().empty());
    EXPECT_EQ(set.find("RA_SC_a"), nullptr);
}

TEST_F(SubscriptionSet, SeveralAddsMakeOneBatch) {
    set.add("RA_SC_a", l1);
    set.add("RA_SC_b", l2);
    set.add("RA_SC_c", l3);
    EXPECT_TRUE(set.has_queued());
    EXPECT_EQ(set.size(), 3u);
    const auto b = set.take_batch();
    EXPECT_EQ(b.subscribe, (names{"RA_SC_a", "RA_SC_b", "RA_SC_c"}));
    EXPECT_TRUE(b.unsubscribe.empty());
    EXPECT_FALSE(b.empty());
    EXPECT_FALSE(set.has_queued());
    // Nothing new: the next batch is empty.
    EXPECT_TRUE(set.take_batch().empty());
}

TEST_F(SubscriptionSet, EntryState) {
    channel_entry& e = set.add("RA_SC_a", l1);
    ASSERT_NE(e.name, nullptr);
    EXPECT_EQ(*e.name, "RA_SC_a");
    EXPECT_EQ(e.server, state::none);
    EXPECT_TRUE(e.queued);
    EXPECT_EQ(e.listeners, (std::vector<rpd::redis::channel_listener*>{&l1}));
    EXPECT_EQ(set.find("RA_SC_a"), &e);

    set.take_batch();
    EXPECT_EQ(e.server, state::requested);
    EXPECT_FALSE(e.queued);
}

TEST_F(SubscriptionSet, TwoListenersInOneTurnShareOneSubscribe) {
    channel_entry& a = set.add("RA_SC_a", l1);
    channel_entry& b = set.add("RA_SC_a", l2);
    EXPECT_EQ(&a, &b);
    EXPECT_EQ(set.size(), 1u);
    EXPECT_EQ(a.listeners, (std::vector<rpd::redis::channel_listener*>{&l1, &l2}));
    EXPECT_EQ(set.take_batch().subscribe, (names{"RA_SC_a"}));
}

TEST_F(SubscriptionSet, SecondListenerOfASubscribedChannelSendsNothing) {
    set.add("RA_SC_a", l1);
    EXPECT_EQ(set.take_batch().subscribe, (names{"RA_SC_a"}));
    set.add("RA_SC_a", l2);
    EXPECT_FALSE(set.has_queued());
    EXPECT_TRUE(set.take_batch().empty());
    // Also once Redis confirmed it.
    ASSERT_NE(set.confirm("RA_SC_a"), nullptr);
    set.add("RA_SC_a", l3);
    EXPECT_FALSE(set.has_queued());
    EXPECT_TRUE(set.take_batch().empty());
    EXPECT_EQ(set.find("RA_SC_a")->listeners.size(), 3u);
    EXPECT_EQ(set.find("RA_SC_a")->server, state::confirmed);
}

TEST_F(SubscriptionSet, OnlyTheLastListenerLeavingUnsubscribes) {
    channel_entry& e = set.add("RA_SC_a", l1);
    set.add("RA_SC_a", l2);
    set.take_batch();
    set.confirm("RA_SC_a");

    set.remove(e, l1);
    EXPECT_FALSE(set.has_queued());
    EXPECT_TRUE(set.take_batch().empty());
    EXPECT_EQ(e.listeners, (std::vector<rpd::redis::channel_listener*>{&l2}));

    const auto t0 = subscription_set::clock::now();
    set.remove(e, l2, t0);
    // It lingers: nothing goes out in the next batch...
    EXPECT_FALSE(set.has_queued());
    EXPECT_TRUE(set.take_batch().empty());
    EXPECT_TRUE(set.has_lingering());
    EXPECT_TRUE(set.take_expired(t0 - std::chrono::milliseconds(1)).empty());
    EXPECT_EQ(set.size(), 1u);
    // ...until the sweep finds it idle long enough.
    const auto b = set.take_expired(t0);
    EXPECT_TRUE(b.subscribe.empty());
    EXPECT_EQ(b.unsubscribe, (names{"RA_SC_a"}));
    EXPECT_EQ(set.size(), 0u);
    EXPECT_EQ(set.find("RA_SC_a"), nullptr);
    EXPECT_FALSE(set.has_lingering());
}

TEST_F(SubscriptionSet, RejoinWhileLingeringSendsNothing) {
    channel_entry& e = set.add("RA_SC_a", l1);
    set.take_batch();
    set.confirm("RA_SC_a");
    const auto t0 = subscription_set::clock::now();
    set.remove(e, l1, t0);
    EXPECT_EQ(&set.add("RA_SC_a", l2), &e);
    EXPECT_TRUE(set.take_batch().empty());
    EXPECT_TRUE(set.take_expired(t0 + std::chrono::seconds(10)).empty());
    EXPECT_FALSE(set.has_lingering());
    EXPECT_EQ(e.server, state::confirmed);
    EXPECT_EQ(e.listeners, (std::vector<rpd::redis::channel_listener*>{&l2}));
    // Leaving again restarts the idle time.
    const auto t1 = t0 + std::chrono::seconds(20);
    set.remove(e, l2, t1);
    EXPECT_TRUE(set.take_expired(t1 - std::chrono::seconds(1)).empty());
    EXPECT_EQ(set.take_expired(t1).unsubscribe, (names{"RA_SC_a"}));
}

TEST_F(SubscriptionSet, LeavingWhileTheSubscribeIsInFlightUnsubscribes) {
    channel_entry& e = set.add("RA_SC_a", l1);
    set.take_batch(); // SUBSCRIBE sent, not confirmed yet
    const auto t0 = subscription_set::clock::now();
    set.remove(e, l1, t0);
    EXPECT_TRUE(set.take_batch().empty());
    const auto b = set.take_expired(t0);
    EXPECT_TRUE(b.subscribe.empty());
    EXPECT_EQ(b.unsubscribe, (names{"RA_SC_a"}));
    EXPECT_EQ(set.size(), 0u);
    // A late confirmation finds nobody.
    EXPECT_EQ(set.confirm("RA_SC_a"), nullptr);
}

TEST_F(SubscriptionSet, LeaveAndRejoinInTheSameTurnSendsNothing) {
    channel_entry& e = set.add("RA_SC_a", l1);
    set.take_batch();
    ASSERT_EQ(set.confirm("RA_SC_a"), &e);

    set.remove(e, l1);
    channel_entry& again = set.add("RA_SC_a", l2);
    EXPECT_EQ(&again, &e);
    EXPECT_TRUE(set.take_batch().empty());
    EXPECT_EQ(set.size(), 1u);
    EXPECT_EQ(e.server, state::confirmed);
    EXPECT_EQ(e.listeners, (std::vector<rpd::redis::channel_listener*>{&l2}));
    EXPECT_FALSE(set.has_queued());
}

TEST_F(SubscriptionSet, RejoinByTheSameListenerInTheSameTurn) {
    channel_entry& e = set.add("RA_SC_a", l1);
    set.take_batch();
    set.remove(e, l1);
    set.add("RA_SC_a", l1);
    EXPECT_TRUE(set.take_batch().empty());
    EXPECT_EQ(e.server, state::requested);
    EXPECT_EQ(e.listeners, (std::vector<rpd::redis::channel_listener*>{&l1}));
}

TEST_F(SubscriptionSet, LeaveBeforeEverSentSendsNothing) {
    channel_entry& e = set.add("RA_SC_a", l1);
    set.remove(e, l1);
    const auto b = set.take_batch();
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(set.size(), 0u);
    EXPECT_EQ(set.find("RA_SC_a"), nullptr);
}

TEST_F(SubscriptionSet, MixedBatch) {
    channel_entry& a = set.add("RA_SC_a", l1);
    channel_entry& b = set.add("RA_SC_b", l2);
    set.take_batch();
    set.confirm("RA_SC_a");
    set.confirm("RA_SC_b");

    const auto t0 = subscription_set::clock::now();
    set.remove(a, l1, t0);  // a lingers
    set.add("RA_SC_c", l1); // subscribe c
    set.remove(b, l2);      // b leaves...
    set.add("RA_SC_b", l3); // ...and comes back: nothing
    channel_entry& d = set.add("RA_SC_d", l2);
    set.remove(d, l2); // never sent: nothing
    const auto batch = set.take_batch();
    EXPECT_EQ(batch.subscribe, (names{"RA_SC_c"}));
    EXPECT_TRUE(batch.unsubscribe.empty());
    EXPECT_EQ(set.take_expired(t0).unsubscribe, (names{"RA_SC_a"}));
    ASSERT_NE(set.find("RA_SC_b"), nullptr);
    EXPECT_EQ(set.find("RA_SC_b")->listeners, (std::vector<rpd::redis::channel_listener*>{&l3}));
    ASSERT_NE(set.find("RA_SC_c"), nullptr);
    EXPECT_EQ(set.find("RA_SC_d"), nullptr);
    EXPECT_EQ(set.size(), 2u);
}

TEST_F(SubscriptionSet, ConfirmOnlyForRequestedEntries) {
    EXPECT_EQ(set.confirm("RA_SC_unknown"), nullptr);

    channel_entry& e = set.add("RA_SC_a", l1);
    EXPECT_EQ(set.confirm("RA_SC_a"), nullptr); // not sent yet
    EXPECT_EQ(e.server, state::none);

    set.take_batch();
    EXPECT_EQ(set.confirm("RA_SC_a"), &e);
    EXPECT_EQ(e.server, state::confirmed);
    EXPECT_EQ(set.confirm("RA_SC_a"), nullptr); // a duplicate confirmation
    EXPECT_EQ(e.server, state::confirmed);
}

TEST_F(SubscriptionSet, ConnectionLostForgetsTheServerState) {
    channel_entry& a = set.add("RA_SC_a", l1);
    channel_entry& b = set.add("RA_SC_b", l2);
    set.take_batch();
    set.confirm("RA_SC_a");
    set.connection_lost();
    EXPECT_EQ(a.server, state::none);
    EXPECT_EQ(b.server, state::none);
    EXPECT_EQ(set.confirm("RA_SC_a"), nullptr);
    EXPECT_EQ(set.size(), 2u);
}

TEST_F(SubscriptionSet, ResubscribeAllWantsOnlyChannelsWithListeners) {
    channel_entry& a = set.add("RA_SC_a", l1);
    channel_entry& b = set.add("RA_SC_b", l2);
    set.add("RA_SC_c", l3);
    set.take_batch();
    set.confirm("RA_SC_a");
    set.confirm("RA_SC_b");

    set.connection_lost();
    set.remove(b, l2);      // left while the connection was down
    set.add("RA_SC_d", l2); // arrived while the connection was down
    const auto batch = set.resubscribe_all();
    EXPECT_EQ(sorted(batch.subscribe), (names{"RA_SC_a", "RA_SC_c", "RA_SC_d"}));
    EXPECT_TRUE(batch.unsubscribe.empty());
    EXPECT_EQ(set.size(), 3u);
    EXPECT_EQ(set.find("RA_SC_b"), nullptr);
    EXPECT_FALSE(set.has_queued());
    EXPECT_TRUE(set.take_batch().empty()); // nothing sent twice
    EXPECT_EQ(a.server, state::requested);
    EXPECT_FALSE(a.queued);

    // The new connection confirms them again.
    EXPECT_EQ(set.confirm("RA_SC_a"), &a);
    ASSERT_NE(set.confirm("RA_SC_d"), nullptr);
    EXPECT_EQ(set.find("RA_SC_d")->listeners, (std::vector<rpd::redis::channel_listener*>{&l2}));
}

TEST_F(SubscriptionSet, ResubscribeAllOfNothing) {
    channel_entry& a = set.add("RA_SC_a", l1);
    set.take_batch();
    set.connection_lost();
    set.remove(a, l1);
    EXPECT_TRUE(set.resubscribe_all().empty());
    EXPECT_EQ(set.size(), 0u);
    EXPECT_FALSE(set.has_queued());
}

TEST_F(SubscriptionSet, LeavingAfterTheLossSendsNoUnsubscribe) {
    channel_entry& a = set.add("RA_SC_a", l1);
    set.take_batch();
    set.confirm("RA_SC_a");
    set.connection_lost();
    set.remove(a, l1);
    EXPECT_TRUE(set.take_batch().empty()); // the server forgot it already
    EXPECT_EQ(set.size(), 0u);
}

TEST_F(SubscriptionSet, ManyChannelsInOneBatch) {
    std::vector<dummy_listener> listeners(100);
    names expected;
    for (int i = 0; i < 100; ++i) {
        expected.push_back("RA_SC_" + std::to_string(i));
        set.add(expected.back(), listeners[i]);
    }
    EXPECT_EQ(set.take_batch().subscribe, expected);
    const auto t0 = subscription_set::clock::now();
    for (int i = 0; i < 100; ++i)
        set.remove(*set.find(expected[i]), listeners[i], t0);
    EXPECT_TRUE(set.take_batch().empty());
    EXPECT_EQ(set.take_expired(t0).unsubscribe, expected);
    EXPECT_EQ(set.size(), 0u);
}

} // namespace

namespace {
TEST_F(SubscriptionSet, ExpiredChannelsGoOutInSlices) {
    std::vector<dummy_listener> listeners(10);
    const auto t0 = subscription_set::clock::now();
    for (int i = 0; i < 10; ++i)
        set.add("RA_SC_" + std::to_string(i), listeners[i]);
    set.take_batch();
    for (int i = 0; i < 10; ++i)
        set.remove(*set.find("RA_SC_" + std::to_string(i)), listeners[i], t0);
    EXPECT_EQ(set.take_expired(t0, 4).unsubscribe.size(), 4u);
    EXPECT_EQ(set.take_expired(t0, 4).unsubscribe.size(), 4u);
    EXPECT_EQ(set.take_expired(t0, 4).unsubscribe.size(), 2u);
    EXPECT_FALSE(set.has_lingering());
    EXPECT_EQ(set.size(), 0u);
}
} // namespace

namespace {
// After a drained peak the set gives its table back (release_capacity_when_empty);
// it must work as before afterwards.
TEST(SubscriptionSetPeak, WorksAfterAPeakHasDrained) {
    subscription_set set;
    dummy_listener l;
    std::vector<channel_entry*> entries;
    for (int i = 0; i < 3000; ++i)
        entries.push_back(&set.add("RA_SC_" + std::to_string(i), l));
    EXPECT_EQ(set.take_batch().subscribe.size(), 3000u);
    const auto t0 = subscription_set::clock::now();
    for (auto* e : entries)
        set.remove(*e, l, t0);
    EXPECT_TRUE(set.take_batch().empty()); // lingering, not yet unsubscribed
    const auto b = set.take_expired(t0 + std::chrono::seconds(1));
    EXPECT_EQ(b.unsubscribe.size(), 3000u);
    EXPECT_EQ(set.size(), 0u);
    EXPECT_FALSE(set.has_lingering());

    channel_entry& again = set.add("RA_SC_7", l);
    EXPECT_EQ(set.find("RA_SC_7"), &again);
    EXPECT_EQ(set.take_batch().subscribe, (names{"RA_SC_7"}));
    set.remove(again, l, t0);
    EXPECT_EQ(set.take_expired(t0 + std::chrono::seconds(1)).unsubscribe, (names{"RA_SC_7"}));
    EXPECT_EQ(set.size(), 0u);
}
} // namespace
