// redis::connection's health probe strategies in-process against a real
// redis-server, with a blocking command that outlasts command_timeout: a
// PING probe waits behind it and drops the connection, no_probe leaves the
// blocking command alone (its own timeout is the liveness check).

#include "redis_push/redis/argv.hpp"
#include "redis_push/redis/connection.hpp"
#include "redis_push/redis/health_probe.hpp"
#include "redis_push/redis/reply.hpp"

#include "redis_server.hpp"
#include "run_loop.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <hiredis/async.h>

#include <memory>
#include <optional>

namespace {

using namespace std::chrono_literals;
using rpd::redis::argv;
using rpd::redis::connection;
using rpd::redis::reply;
using rpd::test::run_until;

struct outcome {
    int lost = 0;
    std::optional<reply::kind> blpop; // the kind of its answer
};

void on_blpop(redisAsyncContext* /*ctx*/, void* r, void* privdata) {
    static_cast<outcome*>(privdata)->blpop = reply(static_cast<const redisReply*>(r)).type;
}

// Connects with `probe`, runs BLPOP with a 2 s timeout on an empty list
// while command_timeout is 300 ms, and reports what happened.
outcome blocking_read_with(std::unique_ptr<rpd::redis::health_probe> probe) {
    rpd::test::redis_server redis;
    boost::asio::io_context ioc;
    rpd::redis::endpoint ep;
    ep.port = redis.port();
    ep.health_interval = 100ms;
    ep.command_timeout = 300ms;
    outcome result;
    connection conn(ioc, ep, "blocking", std::move(probe),
                    connection::callbacks{{}, [&] { ++result.lost; }});
    conn.start();
    EXPECT_TRUE(run_until(ioc, [&] { return conn.ready(); }));
    rpd::redis::async_command(conn.context(), &on_blpop, &result,
                              argv{"BLPOP", "empty-list"}.add_number(2));
    EXPECT_TRUE(run_until(
        ioc, [&] { return result.blpop.has_value(); }, 4000ms));
    // A few more probe intervals, to see whether the connection holds.
    rpd::test::run_for(ioc, 300ms);
    EXPECT_TRUE(conn.ready());
    conn.stop();
    return result;
}

TEST(ConnectionProbe, NoProbeLetsABlockingCommandRun) {
    const outcome o = blocking_read_with(std::make_unique<rpd::redis::no_probe>());
    EXPECT_EQ(o.lost, 0);
    EXPECT_EQ(o.blpop, reply::kind::nil); // BLPOP's own timeout
}

TEST(ConnectionProbe, PingProbeBehindABlockingCommandReconnects) {
    const outcome o = blocking_read_with(std::make_unique<rpd::redis::ping_probe>());
    EXPECT_EQ(o.lost, 1);
    EXPECT_EQ(o.blpop, reply::kind::unavailable); // dropped with the connection
}

} // namespace
