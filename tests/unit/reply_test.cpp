// Unit tests of redis::reply, the view over hiredis' reply structs, on
// structs built by hand: every kind, and the nested arrays XRANGE and
// XREADGROUP answer with (nil and error elements included).

#include "redis_push/redis/reply.hpp"

#include <hiredis/hiredis.h>

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace {

using rpd::redis::reply;
using kind = reply::kind;

// Builds redisReply trees the way hiredis lays them out; owns everything.
class replies {
public:
    redisReply* string(std::string_view s, int type = REDIS_REPLY_STRING) {
        texts_.emplace_back(s);
        redisReply* r = make(type);
        r->str = texts_.back().data();
        r->len = texts_.back().size();
        return r;
    }
    redisReply* status(std::string_view s) { return string(s, REDIS_REPLY_STATUS); }
    redisReply* error(std::string_view s) { return string(s, REDIS_REPLY_ERROR); }
    redisReply* nil() { return make(REDIS_REPLY_NIL); }
    redisReply* integer(long long n) {
        redisReply* r = make(REDIS_REPLY_INTEGER);
        r->integer = n;
        return r;
    }
    redisReply* array(std::vector<redisReply*> elements) {
        arrays_.push_back(std::move(elements));
        redisReply* r = make(REDIS_REPLY_ARRAY);
        r->element = arrays_.back().data();
        r->elements = arrays_.back().size();
        return r;
    }
    redisReply* of_type(int type) { return make(type); }

private:
    redisReply* make(int type) {
        nodes_.emplace_back();
        nodes_.back().type = type;
        return &nodes_.back();
    }
    std::deque<redisReply> nodes_; // stable addresses
    std::deque<std::string> texts_;
    std::deque<std::vector<redisReply*>> arrays_;
};

TEST(Reply, DefaultAndNullAreUnavailable) {
    EXPECT_EQ(reply{}.type, kind::unavailable);
    const reply r(nullptr);
    EXPECT_EQ(r.type, kind::unavailable);
    EXPECT_TRUE(r.empty());
}

TEST(Reply, Scalars) {
    replies b;
    const reply value(b.string("{\"status\":\"done\"}"));
    EXPECT_EQ(value.type, kind::value);
    EXPECT_EQ(value.value, "{\"status\":\"done\"}");
    EXPECT_EQ(value.size(), 0u);

    const reply status(b.status("OK"));
    EXPECT_EQ(status.type, kind::value);
    EXPECT_EQ(status.value, "OK");

    const reply nil(b.nil());
    EXPECT_EQ(nil.type, kind::nil);
    EXPECT_TRUE(nil.value.empty());

    const reply integer(b.integer(-42));
    EXPECT_EQ(integer.type, kind::integer);
    EXPECT_EQ(integer.integer, -42);

    const reply error(b.error("WRONGTYPE Operation against a key holding the wrong kind"));
    EXPECT_EQ(error.type, kind::error);
    EXPECT_EQ(error.value, "WRONGTYPE Operation against a key holding the wrong kind");
}

TEST(Reply, ViewsHiredisText) {
    replies b;
    redisReply* raw = b.string("payload");
    EXPECT_EQ(reply(raw).value.data(), raw->str); // not copied
}

TEST(Reply, BinaryValue) {
    replies b;
    const std::string binary("a\0b", 3);
    EXPECT_EQ(reply(b.string(binary)).value, binary);
}

TEST(Reply, UnknownTypeIsAnError) {
    replies b;
    const reply r(b.of_type(99));
    EXPECT_EQ(r.type, kind::error);
    EXPECT_EQ(r.value, "unexpected reply type");
}

TEST(Reply, EmptyArray) {
    replies b;
    const reply r(b.array({}));
    EXPECT_EQ(r.type, kind::array);
    EXPECT_TRUE(r.empty());
    EXPECT_EQ(r.begin(), r.end());
}

TEST(Reply, FlatArrayWithMixedElements) {
    replies b;
    const reply r(b.array({b.string("a"), b.nil(), b.integer(7), b.error("ERR x"), b.string("")}));
    ASSERT_EQ(r.type, kind::array);
    ASSERT_EQ(r.size(), 5u);
    EXPECT_EQ(r[0].type, kind::value);
    EXPECT_EQ(r[0].value, "a");
    EXPECT_EQ(r[1].type, kind::nil);
    EXPECT_EQ(r[2].type, kind::integer);
    EXPECT_EQ(r[2].integer, 7);
    EXPECT_EQ(r[3].type, kind::error);
    EXPECT_EQ(r[3].value, "ERR x");
    EXPECT_EQ(r[4].type, kind::value);
    EXPECT_TRUE(r[4].value.empty());
}

TEST(Reply, IteratesInOrder) {
    replies b;
    const reply r(b.array({b.string("x"), b.string("y"), b.string("z")}));
    std::string seen;
    for (const reply& e : r)
        seen += e.value;
    EXPECT_EQ(seen, "xyz");
    auto it = r.begin();
    EXPECT_EQ((*it++).value, "x");
    EXPECT_EQ((*it).value, "y");
}

TEST(Reply, IteratorOutlivesATemporaryElementView) {
    replies b;
    const reply r(b.array({b.array({b.string("inner")})}));
    auto it = r[0].begin(); // r[0] is gone after this line
    EXPECT_EQ((*it).value, "inner");
    EXPECT_EQ(++it, r[0].end());
}

// XRANGE: [[id, [field, value, ...]], ...]
TEST(Reply, XrangeShape) {
    replies b;
    const reply r(b.array({
        b.array({b.string("1-0"), b.array({b.string("status"), b.string("running")})}),
        b.array({b.string("2-0"),
                 b.array({b.string("status"), b.string("done"), b.string("n"), b.string("3")})}),
    }));
    ASSERT_EQ(r.size(), 2u);
    std::vector<std::string> flat;
    for (const reply& entry : r) {
        ASSERT_EQ(entry.type, kind::array);
        ASSERT_EQ(entry.size(), 2u);
        flat.emplace_back(entry[0].value);
        for (const reply& field : entry[1])
            flat.emplace_back(field.value);
    }
    EXPECT_EQ(flat, (std::vector<std::string>{"1-0", "status", "running", "2-0", "status", "done",
                                              "n", "3"}));
}

// XREADGROUP: [[stream, [[id, fields], ...]], ...]; an entry deleted since it
// was delivered comes back from the pending list as [id, nil].
TEST(Reply, XreadgroupShapeWithNilFields) {
    replies b;
    const reply r(b.array({b.array({
        b.string("jobs"),
        b.array({
            b.array({b.string("5-0"), b.array({b.string("k"), b.string("v")})}),
            b.array({b.string("6-0"), b.nil()}),
        }),
    })}));
    ASSERT_EQ(r.size(), 1u);
    const reply stream = r[0];
    EXPECT_EQ(stream[0].value, "jobs");
    const reply entries = stream[1];
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0][1][1].value, "v");
    EXPECT_EQ(entries[1][0].value, "6-0");
    EXPECT_EQ(entries[1][1].type, kind::nil);
    EXPECT_TRUE(entries[1][1].empty());
}

// A blocking read that timed out answers with a nil array.
TEST(Reply, NilArrayIsNil) {
    replies b;
    const reply r(b.nil());
    EXPECT_EQ(r.type, kind::nil);
    EXPECT_EQ(r.size(), 0u);
}

} // namespace
