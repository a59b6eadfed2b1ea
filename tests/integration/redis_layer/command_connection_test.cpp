// redis::command_connection in-process against a real redis-server: any
// command through command(), array replies (flat and nested), error replies,
// 1,000 pipelined commands answered in order, and "unavailable" (posted,
// never inside the caller) while Redis is down.

#include "redis_push/redis/argv.hpp"
#include "redis_push/redis/command_connection.hpp"
#include "redis_push/redis/reply.hpp"

#include "redis_server.hpp"
#include "run_loop.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using rpd::redis::argv;
using rpd::redis::command_connection;
using rpd::redis::reply;
using rpd::test::run_until;
using kind = reply::kind;
using strings = std::vector<std::string>;

// A reply outlives its handler only as a copy of what the test looks at.
struct seen {
    kind type = kind::unavailable;
    std::string value;
    long long integer = 0;
    std::vector<seen> elements;
};

seen copy_of(const reply& r) {
    seen s{r.type, std::string(r.value), r.integer, {}};
    for (const reply& e : r)
        s.elements.push_back(copy_of(e));
    return s;
}

strings values_of(const seen& array) {
    strings out;
    for (const seen& e : array.elements)
        out.push_back(e.value);
    return out;
}

class CommandConnection : public ::testing::Test {
protected:
    void SetUp() override {
        rpd::redis::endpoint ep;
        ep.port = redis.port();
        commands = std::make_unique<command_connection>(ioc, ep);
        commands->start();
        ASSERT_TRUE(run_until(ioc, [&] { return commands->ready(); }));
    }
    void TearDown() override { commands->stop(); }

    // Sends one command and runs the loop until its answer.
    seen run(const argv& args) {
        std::optional<seen> answer;
        commands->command(args, [&](const reply& r) { answer = copy_of(r); });
        EXPECT_TRUE(run_until(ioc, [&] { return answer.has_value(); }));
        return answer.value_or(seen{});
    }

    rpd::test::redis_server redis;
    boost::asio::io_context ioc;
    std::unique_ptr<command_connection> commands;
};

TEST_F(CommandConnection, GetAndPublishAsBefore) {
    redis.client().set("k", "{\"status\":\"done\"}");
    std::optional<seen> got, missing, published;
    commands->get("k", [&](const reply& r) { got = copy_of(r); });
    commands->get("nope", [&](const reply& r) { missing = copy_of(r); });
    commands->publish("ch", "hello", [&](const reply& r) { published = copy_of(r); });
    ASSERT_TRUE(run_until(ioc, [&] { return got && missing && published; }));
    EXPECT_EQ(got->type, kind::value);
    EXPECT_EQ(got->value, "{\"status\":\"done\"}");
    EXPECT_EQ(missing->type, kind::nil);
    EXPECT_EQ(published->type, kind::integer);
    EXPECT_EQ(published->integer, 0);
}

TEST_F(CommandConnection, ListPushAndRange) {
    const std::string key = "list";
    const std::string binary("b\0c", 3);
    const seen pushed = run(argv{"RPUSH", key, "a", binary, ""});
    EXPECT_EQ(pushed.type, kind::integer);
    EXPECT_EQ(pushed.integer, 3);

    const seen all = run(argv{"LRANGE", key}.add_number(0).add_number(-1));
    ASSERT_EQ(all.type, kind::array);
    EXPECT_EQ(values_of(all), (strings{"a", binary, ""}));
    for (const seen& e : all.elements)
        EXPECT_EQ(e.type, kind::value);

    const seen empty = run(argv{"LRANGE", "no-such-list", "0", "-1"});
    EXPECT_EQ(empty.type, kind::array);
    EXPECT_TRUE(empty.elements.empty());
}

TEST_F(CommandConnection, StreamAddAndRangeNested) {
    const seen id1 = run(argv{"XADD", "s", "*", "status", "running"});
    const seen id2 = run(argv{"XADD", "s", "*", "status", "done", "n", "3"});
    ASSERT_EQ(id1.type, kind::value);
    ASSERT_EQ(id2.type, kind::value);

    const seen range = run(argv{"XRANGE", "s", "-", "+"});
    ASSERT_EQ(range.type, kind::array);
    ASSERT_EQ(range.elements.size(), 2u);
    const seen& first = range.elements[0];
    ASSERT_EQ(first.type, kind::array);
    ASSERT_EQ(first.elements.size(), 2u);
    EXPECT_EQ(first.elements[0].value, id1.value);
    EXPECT_EQ(first.elements[1].type, kind::array);
    EXPECT_EQ(values_of(first.elements[1]), (strings{"status", "running"}));
    EXPECT_EQ(range.elements[1].elements[0].value, id2.value);
    EXPECT_EQ(values_of(range.elements[1].elements[1]), (strings{"status", "done", "n", "3"}));

    const seen one = run(argv{"XRANGE", "s", "-", "+", "COUNT"}.add_number(1));
    ASSERT_EQ(one.elements.size(), 1u);
    EXPECT_EQ(one.elements[0].elements[0].value, id1.value);

    // XREAD on a stream with nothing new: a nil array.
    const seen nothing = run(argv{"XREAD", "STREAMS", "s"}.add_copy(id2.value));
    EXPECT_EQ(nothing.type, kind::nil);
}

TEST_F(CommandConnection, ErrorRepliesLeaveTheConnectionUp) {
    run(argv{"RPUSH", "a-list", "x"});
    const seen wrong = run(argv{"INCR", "a-list"});
    EXPECT_EQ(wrong.type, kind::error);
    EXPECT_EQ(wrong.value.rfind("WRONGTYPE", 0), 0u) << wrong.value;

    const seen unknown = run(argv{"NO-SUCH-COMMAND"});
    EXPECT_EQ(unknown.type, kind::error);
    EXPECT_EQ(unknown.value.rfind("ERR unknown command", 0), 0u) << unknown.value;

    EXPECT_TRUE(commands->ready());
    EXPECT_EQ(run(argv{"PING"}).value, "PONG");
    EXPECT_EQ(commands->reconnects(), 0u);
}

TEST_F(CommandConnection, EmptyCommandIsAnErrorPosted) {
    std::optional<seen> answer;
    commands->command(argv{}, [&](const reply& r) { answer = copy_of(r); });
    EXPECT_FALSE(answer.has_value()); // not inside the caller
    ASSERT_TRUE(run_until(ioc, [&] { return answer.has_value(); }));
    EXPECT_EQ(answer->type, kind::error);
    EXPECT_TRUE(commands->ready());
}

// Issued in one loop turn, so hiredis writes them as one pipeline; Redis
// answers in order, and each answer must reach its own handler.
TEST_F(CommandConnection, PipelinedThousandAnsweredInOrder) {
    constexpr int n = 1000;
    std::vector<int> order;
    int mismatches = 0;
    for (int i = 0; i < n; ++i) {
        commands->command(argv{"INCR", "counter"}, [&, i](const reply& r) {
            order.push_back(i);
            if (r.type != kind::integer || r.integer != i + 1)
                ++mismatches;
        });
        commands->command(argv{"ECHO"}.add_number(i), [&, i](const reply& r) {
            if (r.type != kind::value || r.value != std::to_string(i))
                ++mismatches;
        });
    }
    EXPECT_TRUE(order.empty()); // nothing answered inside the calls
    ASSERT_TRUE(run_until(ioc, [&] { return order.size() == n; }));
    EXPECT_EQ(mismatches, 0);
    for (int i = 0; i < n; ++i)
        ASSERT_EQ(order[i], i);
    EXPECT_EQ(redis.client().get("counter"), std::to_string(n));
    EXPECT_EQ(commands->reconnects(), 0u);
}

TEST_F(CommandConnection, UnavailableWhileRedisIsDown) {
    // In flight when Redis goes away: answered unavailable. A BLPOP that
    // nothing will ever end (misuse on this connection, but certain to be
    // unanswered) until Redis crashes, well within command_timeout.
    std::optional<seen> in_flight;
    commands->command(argv{"BLPOP", "never-pushed", "0"},
                      [&](const reply& r) { in_flight = copy_of(r); });
    rpd::test::run_for(ioc, std::chrono::milliseconds(100));
    ASSERT_FALSE(in_flight.has_value());
    redis.kill();
    ASSERT_TRUE(run_until(ioc, [&] { return !commands->ready(); }));
    ASSERT_TRUE(run_until(ioc, [&] { return in_flight.has_value(); }));
    EXPECT_EQ(in_flight->type, kind::unavailable);

    // Issued while down: answered unavailable, posted, never re-entrantly.
    std::optional<seen> get_answer, command_answer;
    commands->get("k", [&](const reply& r) { get_answer = copy_of(r); });
    commands->command(argv{"LRANGE", "l", "0", "-1"},
                      [&](const reply& r) { command_answer = copy_of(r); });
    EXPECT_FALSE(get_answer.has_value());
    EXPECT_FALSE(command_answer.has_value());
    ASSERT_TRUE(run_until(ioc, [&] { return get_answer && command_answer; }));
    EXPECT_EQ(get_answer->type, kind::unavailable);
    EXPECT_EQ(command_answer->type, kind::unavailable);

    // Back up: commands work again on the new connection.
    redis.restart();
    ASSERT_TRUE(run_until(
        ioc, [&] { return commands->ready(); }, std::chrono::milliseconds(10000)));
    EXPECT_EQ(run(argv{"PING"}).value, "PONG");
    EXPECT_EQ(commands->reconnects(), 1u);
}

} // namespace
