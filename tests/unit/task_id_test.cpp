// Unit tests of tasks::task_id_validator (spec section 2, "Task id").

#include "redis_push/tasks/task_id.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using rpd::tasks::task_id_validator;
using namespace std::string_literals;

const std::string default_pattern(task_id_validator::default_pattern);

TEST(TaskIdDefault, DefaultPatternIsTheOriginals) {
    EXPECT_EQ(task_id_validator::default_pattern, "^[A-Za-z0-9_]+$");
}

TEST(TaskIdDefault, AcceptsLettersDigitsUnderscore) {
    const task_id_validator v(default_pattern, 32);
    EXPECT_TRUE(v.valid("abc123"));
    EXPECT_TRUE(v.valid("ABCxyz"));
    EXPECT_TRUE(v.valid("_"));
    EXPECT_TRUE(v.valid("0"));
    EXPECT_TRUE(v.valid("a_B_9"));
    EXPECT_TRUE(v.valid("azAZ09_"));
}

TEST(TaskIdDefault, RejectsEveryOtherAsciiCharacter) {
    const task_id_validator v(default_pattern, 32);
    for (int c = 1; c < 128; ++c) {
        const bool allowed =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        const std::string id = "a"s + static_cast<char>(c) + "b";
        EXPECT_EQ(v.valid(id), allowed) << "character " << c;
    }
}

TEST(TaskIdDefault, Empty) {
    const task_id_validator v(default_pattern, 32);
    EXPECT_FALSE(v.valid(""));
}

TEST(TaskIdDefault, DotSegments) {
    const task_id_validator v(default_pattern, 32);
    EXPECT_FALSE(v.valid("."));
    EXPECT_FALSE(v.valid(".."));
    EXPECT_FALSE(v.valid("a.b"));
}

TEST(TaskIdDefault, PercentEncoded) {
    const task_id_validator v(default_pattern, 32);
    EXPECT_FALSE(v.valid("%41"));
    EXPECT_FALSE(v.valid("abc%5F"));
    EXPECT_FALSE(v.valid("%"));
}

TEST(TaskIdDefault, Slash) {
    const task_id_validator v(default_pattern, 32);
    EXPECT_FALSE(v.valid("/"));
    EXPECT_FALSE(v.valid("a/b"));
    EXPECT_FALSE(v.valid("a/"));
    EXPECT_FALSE(v.valid("/a"));
}

TEST(TaskIdDefault, NonAsciiBytes) {
    const task_id_validator v(default_pattern, 32);
    EXPECT_FALSE(v.valid("caf\xc3\xa9"));
    EXPECT_FALSE(v.valid("\xff"));
    EXPECT_FALSE(v.valid("a\x80"));
}

TEST(TaskIdDefault, NulByte) {
    const task_id_validator v(default_pattern, 32);
    EXPECT_FALSE(v.valid("a\0b"s));
    EXPECT_FALSE(v.valid("\0"s));
    EXPECT_FALSE(v.valid("abc\0"s));
}

TEST(TaskIdDefault, MaxLengthBoundary) {
    const task_id_validator v(default_pattern, 32);
    EXPECT_TRUE(v.valid(std::string(31, 'a')));
    EXPECT_TRUE(v.valid(std::string(32, 'a')));
    EXPECT_FALSE(v.valid(std::string(33, 'a')));
    EXPECT_FALSE(v.valid(std::string(1000, 'a')));
}

TEST(TaskIdDefault, MaxLengthOne) {
    const task_id_validator v(default_pattern, 1);
    EXPECT_TRUE(v.valid("a"));
    EXPECT_FALSE(v.valid("ab"));
}

TEST(TaskIdDefault, LargerMaxLength) {
    const task_id_validator v(default_pattern, 1024);
    EXPECT_TRUE(v.valid(std::string(1024, 'Z')));
    EXPECT_FALSE(v.valid(std::string(1025, 'Z')));
}

// ---- a custom pattern goes through std::regex -------------------------------------

TEST(TaskIdCustom, HexWithDashes) {
    const task_id_validator v("^[a-f0-9-]+$", 36);
    EXPECT_TRUE(v.valid("0f3a-bc"));
    EXPECT_TRUE(v.valid("123e4567-e89b-12d3-a456-426614174000"));
    EXPECT_FALSE(v.valid("123e4567-e89b-12d3-a456-4266141740000")); // 37 bytes
    EXPECT_FALSE(v.valid("ABC"));                                   // upper case
    EXPECT_FALSE(v.valid("a_b"));                                   // allowed by the default only
    EXPECT_FALSE(v.valid(""));
}

TEST(TaskIdCustom, WholeIdMustMatch) {
    // The pattern has no anchors: a match of part of the id is not enough.
    const task_id_validator v("[0-9]+", 32);
    EXPECT_TRUE(v.valid("123"));
    EXPECT_FALSE(v.valid("123abc"));
    EXPECT_FALSE(v.valid("x1"));
}

TEST(TaskIdCustom, FixedRulesApplyWhateverThePattern) {
    // A pattern allowing anything still cannot admit dot segments, percent
    // escapes, slashes, the empty id or an over-long one.
    const task_id_validator v("^.*$", 8);
    EXPECT_TRUE(v.valid("a.b"));
    EXPECT_TRUE(v.valid("a-b"));
    EXPECT_FALSE(v.valid(""));
    EXPECT_FALSE(v.valid("."));
    EXPECT_FALSE(v.valid(".."));
    EXPECT_FALSE(v.valid("%41"));
    EXPECT_FALSE(v.valid("a/b"));
    EXPECT_FALSE(v.valid("/"));
    EXPECT_TRUE(v.valid("12345678"));
    EXPECT_FALSE(v.valid("123456789"));
}

TEST(TaskIdCustom, NonAsciiAllowedOnlyIfThePatternSaysSo) {
    const task_id_validator strict("^[a-z]+$", 32);
    EXPECT_FALSE(strict.valid("caf\xc3\xa9"));
    const task_id_validator loose("^[^ ]+$", 32);
    EXPECT_TRUE(loose.valid("caf\xc3\xa9"));
}

TEST(TaskIdCustom, NulByteNeverMatchesAnAsciiClass) {
    const task_id_validator v("^[a-z]+$", 32);
    EXPECT_FALSE(v.valid("ab\0cd"s));
}

TEST(TaskIdCustom, SamePatternSpelledDifferentlyBehavesLikeTheDefault) {
    // Not textually the default, so it takes the regex path: same answers.
    const task_id_validator regex_path("^[A-Za-z0-9_]+$(?:)", 32);
    const task_id_validator fast_path(default_pattern, 32);
    for (const char* id : {"abc", "A_1", "", ".", "..", "%41", "a/b", "a b", "caf\xc3\xa9"}) {
        EXPECT_EQ(regex_path.valid(id), fast_path.valid(id)) << id;
    }
    EXPECT_EQ(regex_path.valid(std::string(32, 'x')), true);
    EXPECT_EQ(regex_path.valid(std::string(33, 'x')), false);
}

} // namespace
