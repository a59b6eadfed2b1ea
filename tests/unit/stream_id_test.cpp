// Unit tests of the stream cursor (MODES.md 3, 6 "Parameters"):
// streams::parse_stream_id and streams::parse_offset.
#include "redis_push/streams/stream_id.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace {

using rpd::streams::parse_offset;
using rpd::streams::parse_stream_id;
using rpd::streams::stream_id;

constexpr auto u64_max = std::numeric_limits<std::uint64_t>::max();

TEST(StreamId, MsDashSeq) {
    const auto id = parse_stream_id("1700000000000-3");
    ASSERT_TRUE(id);
    EXPECT_EQ(id->ms, 1700000000000u);
    EXPECT_EQ(id->seq, 3u);
    EXPECT_EQ(id->text(), "1700000000000-3");
}

TEST(StreamId, MsAloneMeansSeqZero) {
    const auto id = parse_stream_id("42");
    ASSERT_TRUE(id);
    EXPECT_EQ(*id, (stream_id{42, 0}));
    EXPECT_EQ(id->text(), "42-0");
}

TEST(StreamId, ZeroForms) {
    EXPECT_EQ(parse_stream_id("0"), (stream_id{0, 0}));
    EXPECT_EQ(parse_stream_id("0-0"), (stream_id{0, 0}));
    EXPECT_TRUE(parse_stream_id("0")->is_zero());
    EXPECT_FALSE(parse_stream_id("0-1")->is_zero());
}

TEST(StreamId, LeadingZerosAreDecimal) {
    EXPECT_EQ(parse_stream_id("007-010"), (stream_id{7, 10}));
}

TEST(StreamId, SixtyFourBitLimits) {
    EXPECT_EQ(parse_stream_id("18446744073709551615-18446744073709551615"),
              (stream_id{u64_max, u64_max}));
    EXPECT_FALSE(parse_stream_id("18446744073709551616"));
    EXPECT_FALSE(parse_stream_id("18446744073709551616-0"));
    EXPECT_FALSE(parse_stream_id("1-18446744073709551616"));
    EXPECT_FALSE(parse_stream_id("99999999999999999999999999999999"));
}

TEST(StreamId, SignsAreRefused) {
    for (const char* s : {"-1", "+1", "1--1", "1-+1", "1-", "-", "-0", "+0", "1-2-3"})
        EXPECT_FALSE(parse_stream_id(s)) << s;
}

TEST(StreamId, SpacesAndOtherCharactersAreRefused) {
    for (const char* s : {"", " 1", "1 ", "1 -2", "1- 2", "1-2 ", "\t1", "1\n", "0x10", "1e3",
                          "1.5", "1-2.0", "abc", "1-a", "$", "*", "1-*", "١"})
        EXPECT_FALSE(parse_stream_id(s)) << s;
    EXPECT_FALSE(parse_stream_id(std::string("1\0", 2)));
    EXPECT_FALSE(parse_stream_id(std::string("1-2\0", 4)));
}

TEST(StreamId, OrderIsRedisOrder) {
    EXPECT_LT((stream_id{1, 9}), (stream_id{2, 0}));
    EXPECT_LT((stream_id{1, 1}), (stream_id{1, 2}));
    EXPECT_LT(*parse_stream_id("9-0"), *parse_stream_id("10-0")); // numbers, not text
    EXPECT_EQ(*parse_stream_id("5"), *parse_stream_id("5-0"));
}

TEST(StreamOffset, DollarOnlyWhereAllowed) {
    const auto latest = parse_offset("$", true);
    ASSERT_TRUE(latest);
    EXPECT_TRUE(latest->latest);
    EXPECT_FALSE(parse_offset("$", false));
    EXPECT_FALSE(parse_offset("$$", true));
    EXPECT_FALSE(parse_offset(" $", true));
    EXPECT_FALSE(parse_offset("$-0", true));
}

TEST(StreamOffset, ZeroIsFromTheBeginning) {
    for (const bool allow : {true, false}) {
        const auto o = parse_offset("0", allow);
        ASSERT_TRUE(o);
        EXPECT_FALSE(o->latest);
        EXPECT_TRUE(o->id.is_zero());
    }
}

TEST(StreamOffset, IdsAsParseStreamId) {
    const auto o = parse_offset("12-34", false);
    ASSERT_TRUE(o);
    EXPECT_FALSE(o->latest);
    EXPECT_EQ(o->id, (stream_id{12, 34}));
    EXPECT_FALSE(parse_offset("", true));
    EXPECT_FALSE(parse_offset("-1", true));
    EXPECT_FALSE(parse_offset("18446744073709551616", true));
    EXPECT_FALSE(parse_offset("1 ", true));
}

} // namespace
