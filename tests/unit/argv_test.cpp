// Unit tests of redis::argv, the one builder of hiredis' argument arrays:
// views stay views, owned text (numbers, copies) stays valid however the
// arrays grow and wherever the argv is copied or moved.

#include "redis_push/redis/argv.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using rpd::redis::argv;

// What hiredis would read: the two arrays, not operator[].
std::vector<std::string> as_hiredis_reads(const argv& a) {
    std::vector<std::string> out;
    for (int i = 0; i < a.size(); ++i)
        out.emplace_back(a.data()[i], a.lengths()[i]);
    return out;
}

using strings = std::vector<std::string>;

// A temporary std::string would dangle; add() refuses it at compile time.
template <class T>
concept addable = requires(argv a, T&& arg) {
    a.add(std::forward<T>(arg));
};
static_assert(!addable<std::string>);
static_assert(addable<const std::string&>);
static_assert(addable<std::string&>);
static_assert(addable<std::string_view>);
static_assert(addable<const char (&)[8]>);

TEST(Argv, StartsEmpty) {
    argv a;
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(a.size(), 0);
}

TEST(Argv, ViewsPointAtTheCallersText) {
    const std::string key = "task:42";
    const argv a{"GET", key};
    ASSERT_EQ(a.size(), 2);
    EXPECT_EQ(a.data()[1], key.data()); // not copied
    EXPECT_EQ(a.lengths()[0], 3u);
    EXPECT_EQ(a.lengths()[1], key.size());
    EXPECT_EQ(as_hiredis_reads(a), (strings{"GET", "task:42"}));
}

TEST(Argv, LengthsCarryBinaryAndEmptyArguments) {
    const std::string binary("a\0b", 3);
    argv a;
    a.add("SET").add(binary).add("");
    ASSERT_EQ(a.size(), 3);
    EXPECT_EQ(a.lengths()[1], 3u);
    EXPECT_EQ(a.lengths()[2], 0u);
    EXPECT_EQ(a[1], std::string_view(binary));
}

TEST(Argv, NumbersAsText) {
    argv a;
    a.add("LRANGE").add("k").add_number(0).add_number(-1).add_number(LLONG_MIN).add_number(
        LLONG_MAX);
    EXPECT_EQ(as_hiredis_reads(a),
              (strings{"LRANGE", "k", "0", "-1", "-9223372036854775808", "9223372036854775807"}));
}

TEST(Argv, CopiesOutliveTheirSource) {
    argv a{"SET"};
    {
        std::string gone = "made on the fly";
        a.add_copy(gone);
        gone.assign(gone.size(), 'x');
    }
    EXPECT_EQ(as_hiredis_reads(a), (strings{"SET", "made on the fly"}));
}

// Far beyond both inline capacities (8 arguments, 48 bytes of owned text):
// the owned text moves to the heap several times.
TEST(Argv, OwnedNumbersSurviveGrowth) {
    const std::string field = "field";
    argv a{"XADD", "stream", "*"};
    strings expected{"XADD", "stream", "*"};
    for (long long i = 0; i < 500; ++i) {
        a.add(field).add_number(i * 1000003 - 7);
        expected.push_back(field);
        expected.push_back(std::to_string(i * 1000003 - 7));
    }
    ASSERT_EQ(a.size(), 1003);
    EXPECT_EQ(as_hiredis_reads(a), expected);
    EXPECT_EQ(a.data()[3], field.data()); // views stay views through growth
}

TEST(Argv, CopyPointsIntoItsOwnStorage) {
    for (int numbers : {1, 40}) { // inline and heap storage
        auto original = std::make_unique<argv>(argv{"ECHO"});
        strings expected{"ECHO"};
        for (int i = 0; i < numbers; ++i) {
            original->add_number(i);
            expected.push_back(std::to_string(i));
        }
        const argv copy(*original);
        argv assigned{"overwritten", "too"};
        assigned = *original;
        original.reset();
        EXPECT_EQ(as_hiredis_reads(copy), expected) << numbers;
        EXPECT_EQ(as_hiredis_reads(assigned), expected) << numbers;
    }
}

TEST(Argv, MovePointsIntoItsOwnStorage) {
    for (int numbers : {1, 40}) {
        argv source{"ECHO"};
        strings expected{"ECHO"};
        for (int i = 0; i < numbers; ++i) {
            source.add_number(-i);
            expected.push_back(std::to_string(-i));
        }
        argv moved(std::move(source));
        EXPECT_EQ(as_hiredis_reads(moved), expected) << numbers;
        argv assigned;
        assigned = std::move(moved);
        EXPECT_EQ(as_hiredis_reads(assigned), expected) << numbers;
        // The moved-from argv is empty and usable.
        source.add("PING");
        EXPECT_EQ(as_hiredis_reads(source), (strings{"PING"}));
    }
}

TEST(Argv, ClearStartsOver) {
    argv a{"SUBSCRIBE"};
    a.add_number(1).add_number(2);
    a.clear();
    EXPECT_TRUE(a.empty());
    a.add("UNSUBSCRIBE").add_number(3);
    EXPECT_EQ(as_hiredis_reads(a), (strings{"UNSUBSCRIBE", "3"}));
}

} // namespace
