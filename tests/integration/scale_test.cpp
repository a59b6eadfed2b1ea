// Many watches: subscriptions and Redis connections must not grow with
// clients, and everything an abandoned watch held is released.
#include <poll.h>

#include "common.hpp"

using namespace rpd::test;

namespace {

class Scale : public daemon_test {
protected:
    json daemon_config() override { return {{"log", {{"level", "warn"}}}}; }
    void SetUp() override {
        raise_fd_limit(20000);
        daemon_test::SetUp();
    }
};

constexpr int kWatches = 2000;

TEST_F(Scale, TwoThousandAbandonedWatchesReleaseEverything) {
    // Data keys for every task (running: each watch will wait).
    {
        std::vector<std::string> args = {"MSET"};
        for (int i = 0; i < kWatches; ++i) {
            args.push_back(data_key("s" + std::to_string(i)));
            args.push_back(R"({"status":"running"})");
        }
        cli().command(args);
    }
    std::vector<std::unique_ptr<watch_client>> ws;
    ws.reserve(kWatches);
    // Open in batches so the accept queue never overflows, waiting for heads.
    const int batch = 200;
    for (int start = 0; start < kWatches; start += batch) {
        for (int i = start; i < start + batch && i < kWatches; ++i)
            ws.push_back(std::make_unique<watch_client>(port(), "s" + std::to_string(i)));
        for (int i = start; i < start + batch && i < kWatches; ++i)
            ASSERT_TRUE(ws[i]->wait_established(10000ms)) << "watch " << i << " not established";
    }
    // All are subscribed, through a fixed number of Redis connections.
    EXPECT_EQ(cli().channels("RA_SC_s*").size(), static_cast<std::size_t>(kWatches));
    auto n = cli().foreign_client_count();
    EXPECT_LE(n, 1u + 4u) << "daemon uses " << n << " Redis connections:\n"
                          << tail(cli().client_list(), 3000);
    EXPECT_GE(n, 2u);
    EXPECT_TRUE(wait_until(
        [&] { return daemon().metric("redis_push_watches_active") == double(kWatches); }, 5000ms))
        << daemon().metric("redis_push_watches_active").value_or(-1);

    // Abandon every watch.
    ws.clear();
    EXPECT_TRUE(wait_until([&] { return cli().channels("RA_SC_*").empty(); }, 20000ms))
        << cli().channels("RA_SC_*").size() << " channels still subscribed";
    for (int i : {0, 1, 999, 1999})
        EXPECT_EQ(cli().numsub(channel("s" + std::to_string(i))), 0);
    EXPECT_TRUE(
        wait_until([&] { return daemon().metric("redis_push_watches_active") == 0.0; }, 10000ms))
        << daemon().metric("redis_push_watches_active").value_or(-1);
    EXPECT_TRUE(wait_until([&] { return daemon().metric("redis_push_channels_subscribed") == 0.0; },
                           10000ms));
    // Only the /metrics request's own connection remains.
    EXPECT_TRUE(wait_until(
        [&] { return daemon().metric("redis_push_connections_open").value_or(99) <= 1.0; },
        10000ms))
        << daemon().metric("redis_push_connections_open").value_or(-1);
    EXPECT_LE(cli().foreign_client_count(), 5u);

    // The daemon is still fully functional.
    cli().set(data_key("after"), R"({"status":"running"})");
    watch_client w(port(), "after");
    ASSERT_TRUE(w.wait_established());
    cli().publish(channel("after"), R"({"status":"done","data":"ok"})");
    ASSERT_TRUE(w.finish(3000ms));
    EXPECT_EQ(w.body(), R"({"status":"done","data":"ok"})");
}

TEST_F(Scale, ManyWatchesAllComplete) {
    const int n = 500;
    {
        std::vector<std::string> args = {"MSET"};
        for (int i = 0; i < n; ++i) {
            args.push_back(data_key("c" + std::to_string(i)));
            args.push_back(R"({"status":"running"})");
        }
        cli().command(args);
    }
    std::vector<std::unique_ptr<watch_client>> ws;
    for (int i = 0; i < n; ++i)
        ws.push_back(std::make_unique<watch_client>(port(), "c" + std::to_string(i)));
    for (int i = 0; i < n; ++i)
        ASSERT_TRUE(ws[i]->wait_established(10000ms)) << i;
    for (int i = 0; i < n; ++i)
        cli().publish(channel("c" + std::to_string(i)),
                      R"({"status":"done","data":)" + std::to_string(i) + "}");
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(ws[i]->finish(10000ms)) << i;
        EXPECT_EQ(ws[i]->body(), R"({"status":"done","data":)" + std::to_string(i) + "}");
    }
    EXPECT_TRUE(wait_until([&] { return cli().channels("RA_SC_*").empty(); }, 10000ms));
}

class ScaleOneSubscriber : public Scale {
protected:
    json daemon_config() override {
        return {{"log", {{"level", "warn"}}}, {"redis", {{"subscriber_connections", 1}}}};
    }
};

TEST_F(ScaleOneSubscriber, PoolSizeIsHonoured) {
    std::vector<std::unique_ptr<watch_client>> ws;
    for (int i = 0; i < 100; ++i) {
        auto id = "o" + std::to_string(i);
        cli().set(data_key(id), R"({"status":"running"})");
        ws.push_back(std::make_unique<watch_client>(port(), id));
    }
    for (auto& w : ws)
        ASSERT_TRUE(w->wait_established());
    auto n = cli().foreign_client_count();
    EXPECT_LE(n, 2u) << cli().client_list();
    EXPECT_GE(n, 1u);
}

} // namespace
