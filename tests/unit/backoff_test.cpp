// Unit tests of redis::backoff, the capped exponential reconnect delay with
// equal jitter (spec section 4).

#include "redis_push/redis/backoff.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using rpd::redis::backoff;
using ms = std::chrono::milliseconds;

TEST(Backoff, FirstDelayBounds) {
    backoff b(ms(100), ms(10000));
    EXPECT_EQ(b.attempts(), 0u);
    EXPECT_EQ(b.ceiling(), ms(100));
    EXPECT_EQ(b.next(0.0), ms(50)); // d/2
    EXPECT_EQ(b.attempts(), 1u);
}

TEST(Backoff, ExactEqualJitter) {
    backoff b(ms(1000), ms(60000));
    EXPECT_EQ(b.next(0.5), ms(750));   // 500 + 0.5 * 500
    EXPECT_EQ(b.next(0.25), ms(1250)); // 1000 + 0.25 * 1000
    EXPECT_EQ(b.next(0.75), ms(3500)); // 2000 + 0.75 * 2000
}

TEST(Backoff, DelaysStayWithinHalfAndFullCeiling) {
    for (double u = 0.0; u < 1.0; u += 0.05) {
        backoff b(ms(100), ms(5000));
        for (int i = 0; i < 12; ++i) {
            const ms d = b.ceiling();
            const ms got = b.next(u);
            EXPECT_GE(got, d / 2) << "u=" << u << " attempt " << i;
            EXPECT_LE(got, d) << "u=" << u << " attempt " << i;
        }
    }
}

TEST(Backoff, AlmostOneIsJustBelowTheCeiling) {
    backoff b(ms(100), ms(10000));
    EXPECT_EQ(b.next(0.999999), ms(99));
}

TEST(Backoff, OutOfRangeRandomIsClamped) {
    backoff low(ms(100), ms(10000));
    EXPECT_EQ(low.next(-3.0), ms(50));
    backoff high(ms(100), ms(10000));
    EXPECT_EQ(high.next(7.0), ms(100));
}

TEST(Backoff, CeilingDoubles) {
    backoff b(ms(100), ms(100000));
    std::vector<ms> ceilings;
    std::vector<ms> lows;
    for (int i = 0; i < 6; ++i) {
        ceilings.push_back(b.ceiling());
        lows.push_back(b.next(0.0));
    }
    EXPECT_EQ(ceilings, (std::vector<ms>{ms(100), ms(200), ms(400), ms(800), ms(1600), ms(3200)}));
    EXPECT_EQ(lows, (std::vector<ms>{ms(50), ms(100), ms(200), ms(400), ms(800), ms(1600)}));
    EXPECT_EQ(b.attempts(), 6u);
}

TEST(Backoff, CeilingDoesNotAdvance) {
    backoff b(ms(100), ms(10000));
    EXPECT_EQ(b.ceiling(), ms(100));
    EXPECT_EQ(b.ceiling(), ms(100));
    EXPECT_EQ(b.attempts(), 0u);
}

TEST(Backoff, CapIsReachedAndKept) {
    backoff b(ms(100), ms(1000));
    std::vector<ms> ceilings;
    for (int i = 0; i < 7; ++i) {
        ceilings.push_back(b.ceiling());
        b.next(0.5);
    }
    EXPECT_EQ(ceilings,
              (std::vector<ms>{ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000), ms(1000)}));
    EXPECT_EQ(b.next(0.0), ms(500));
    EXPECT_EQ(b.next(0.999), ms(999));
}

TEST(Backoff, CapHoldsAfterVeryManyAttempts) {
    backoff b(ms(100), ms(30000));
    for (int i = 0; i < 1000; ++i) {
        const ms got = b.next(0.999);
        ASSERT_LE(got, ms(30000)) << i;
        ASSERT_GE(got, ms(50)) << i;
    }
    EXPECT_EQ(b.attempts(), 1000u);
    EXPECT_EQ(b.ceiling(), ms(30000));
    EXPECT_EQ(b.next(0.0), ms(15000));
}

TEST(Backoff, CapBelowInitial) {
    backoff b(ms(5000), ms(1000));
    EXPECT_EQ(b.ceiling(), ms(1000));
    EXPECT_EQ(b.next(0.0), ms(500));
}

TEST(Backoff, ResetStartsOver) {
    backoff b(ms(100), ms(10000));
    for (int i = 0; i < 5; ++i)
        b.next(0.3);
    EXPECT_EQ(b.ceiling(), ms(3200));
    b.reset();
    EXPECT_EQ(b.attempts(), 0u);
    EXPECT_EQ(b.ceiling(), ms(100));
    EXPECT_EQ(b.next(0.0), ms(50));
    EXPECT_EQ(b.ceiling(), ms(200));
}

} // namespace
