// Section 6: /healthz, /metrics, signals.
#include <csignal>
#include <regex>
#include <sstream>

#include "common.hpp"

using namespace rpd::test;

namespace {

class Operations : public daemon_test {};

TEST_F(Operations, HealthzUp) {
    auto r = http_get(port(), "/healthz");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(json::parse(r.body, nullptr, false), json({{"redis", "up"}})) << r.body;
    EXPECT_TRUE(is_json_content_type(r));
}

TEST_F(Operations, MetricsExposition) {
    // Some traffic first, so the labelled counters have samples.
    cli().set(data_key("m"), R"({"status":"running"})");
    http_get(port(), "/task/m");
    http_get(port(), "/task/none");
    {
        watch_client w(port(), "m");
        ASSERT_TRUE(w.wait_established());
        cli().publish(channel("m"), R"({"status":"done","data":1})");
        ASSERT_TRUE(w.finish(3000ms));
    }
    auto r = http_get(port(), "/metrics");
    ASSERT_EQ(r.status, 200);
    auto ct = r.header("Content-Type");
    ASSERT_TRUE(ct);
    EXPECT_EQ(ct->rfind("text/plain; version=0.0.4", 0), 0u) << *ct;
    const std::vector<std::pair<std::string, std::string>> metrics = {
        {"redis_push_connections_open", "gauge"},
        {"redis_push_watches_active", "gauge"},
        {"redis_push_channels_subscribed", "gauge"},
        {"redis_push_requests_total", "counter"},
        {"redis_push_redis_reconnects_total", "counter"},
        {"redis_push_channel_messages_total", "counter"},
    };
    for (auto& [name, type] : metrics) {
        SCOPED_TRACE(name);
        EXPECT_TRUE(contains(r.body, "# HELP " + name + " ")) << r.body;
        EXPECT_TRUE(contains(r.body, "# TYPE " + name + " " + type + "\n")) << r.body;
    }
    // Every sample line is "name[{labels}] value".
    std::istringstream in(r.body);
    std::string line;
    const std::regex sample(
        R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eE]+(Inf|NaN)?( [0-9]+)?$)");
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        EXPECT_TRUE(std::regex_match(line, sample)) << "bad sample line: " << line;
    }
    auto requests = metric_sum(r.body, "redis_push_requests_total");
    ASSERT_TRUE(requests) << "no sample of redis_push_requests_total";
    EXPECT_GE(*requests, 3.0);
    EXPECT_TRUE(contains(r.body, "redis_push_requests_total{")) << "requests_total has no labels";
    bool has_mode = false, has_outcome = false;
    std::istringstream in2(r.body);
    while (std::getline(in2, line)) {
        if (line.rfind("redis_push_requests_total{", 0) != 0)
            continue;
        if (contains(line, "mode=\""))
            has_mode = true;
        if (contains(line, "outcome=\""))
            has_outcome = true;
    }
    EXPECT_TRUE(has_mode && has_outcome) << "requests_total needs labels mode and outcome";
    EXPECT_GE(metric_sum(r.body, "redis_push_channel_messages_total").value_or(-1), 1.0);
    EXPECT_EQ(metric_sum(r.body, "redis_push_watches_active").value_or(-1), 0.0);
    EXPECT_GE(metric_sum(r.body, "redis_push_connections_open").value_or(-1), 1.0)
        << "this request's connection";
}

TEST_F(Operations, GaugesFollowWatches) {
    cli().set(data_key("g1"), R"({"status":"running"})");
    cli().set(data_key("g2"), R"({"status":"running"})");
    watch_client a(port(), "g1");
    watch_client b(port(), "g2");
    ASSERT_TRUE(a.wait_established());
    ASSERT_TRUE(b.wait_established());
    auto m = daemon().metrics();
    EXPECT_EQ(metric_sum(m, "redis_push_watches_active"), 2.0);
    EXPECT_GE(metric_sum(m, "redis_push_channels_subscribed").value_or(-1), 2.0);
    EXPECT_GE(metric_sum(m, "redis_push_connections_open").value_or(-1), 3.0);
    cli().publish(channel("g1"), R"({"status":"done","data":1})");
    ASSERT_TRUE(a.finish(3000ms));
    b.close();
    EXPECT_TRUE(
        wait_until([&] { return daemon().metric("redis_push_watches_active") == 0.0; }, 5000ms));
    EXPECT_TRUE(wait_until([&] { return daemon().metric("redis_push_channels_subscribed") == 0.0; },
                           5000ms));
}

TEST_F(Operations, SigtermEndsWaitingWatchesAndExitsZero) {
    std::vector<std::unique_ptr<watch_client>> watches;
    for (int i = 0; i < 3; ++i) {
        std::string id = "sd" + std::to_string(i);
        cli().set(data_key(id), R"({"status":"running"})");
        watches.push_back(std::make_unique<watch_client>(port(), id));
        ASSERT_TRUE(watches.back()->wait_established());
    }
    // One more watch on HTTP/1.0 (close-delimited).
    cli().set(data_key("sd_old"), R"({"status":"running"})");
    watches.push_back(std::make_unique<watch_client>(port(), "sd_old", header_list{}, "HTTP/1.0"));
    ASSERT_TRUE(watches.back()->wait_established());

    auto start = clock::now();
    daemon().terminate();
    for (auto& w : watches) {
        ASSERT_TRUE(w->finish(5000ms)) << "watch did not end on SIGTERM";
        EXPECT_EQ(w->status(), 200);
        EXPECT_TRUE(is_error_body(w->body(), "Server shutting down"));
    }
    auto code = daemon().wait_exit(5000ms);
    ASSERT_TRUE(code) << "still running 5 s after SIGTERM";
    EXPECT_EQ(*code, 0);
    EXPECT_LT(clock::now() - start, 5000ms);
}

TEST_F(Operations, SigintExitsZero) {
    cli().set(data_key("si"), R"({"status":"running"})");
    watch_client w(port(), "si");
    ASSERT_TRUE(w.wait_established());
    daemon().signal(SIGINT);
    ASSERT_TRUE(w.finish(5000ms));
    EXPECT_TRUE(is_error_body(w.body(), "Server shutting down"));
    auto code = daemon().wait_exit(5000ms);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 0);
}

TEST_F(Operations, SigtermIdleExitsZeroAndStopsListening) {
    // An idle keep-alive connection must not hold the shutdown up.
    http_connection idle(port());
    ASSERT_TRUE(idle.send_request("GET", "/healthz"));
    ASSERT_TRUE(idle.read_response(3000ms));
    auto p = port();
    daemon().terminate();
    auto code = daemon().wait_exit(5000ms);
    ASSERT_TRUE(code) << "still running 5 s after SIGTERM";
    EXPECT_EQ(*code, 0);
    EXPECT_THROW(http_connection(p, 200ms), std::runtime_error) << "still accepting after exit";
}

TEST_F(Operations, LogsGoToStderr) {
    http_get(port(), "/task/none");
    EXPECT_TRUE(wait_until([&] { return !daemon().stderr_text().empty(); }, 3000ms))
        << "nothing logged on stderr at debug level";
}

class LogLevelOff : public daemon_test {
protected:
    json daemon_config() override { return {{"log", {{"level", "off"}}}}; }
};

TEST_F(LogLevelOff, NothingIsLogged) {
    cli().set(data_key("l"), R"({"status":"running"})");
    http_get(port(), "/task/l");
    http_get(port(), "/task/none");
    {
        watch_client w(port(), "l");
        ASSERT_TRUE(w.wait_established());
        cli().publish(channel("l"), R"({"status":"done","data":1})");
        ASSERT_TRUE(w.finish(3000ms));
    }
    // The daemon has handled everything above; with level off nothing is written.
    EXPECT_EQ(daemon().stderr_text(), "");
    EXPECT_EQ(daemon().stdout_text(), "");
}

class LogLevelWarn : public daemon_test {
protected:
    json daemon_config() override { return {{"log", {{"level", "warn"}}}}; }
};

TEST_F(LogLevelWarn, NoInfoOrDebugLines) {
    http_get(port(), "/task/none");
    http_get(port(), "/healthz");
    auto err = daemon().stderr_text() + daemon().stdout_text();
    EXPECT_FALSE(contains(err, "[info]")) << err;
    EXPECT_FALSE(contains(err, "[debug]")) << err;
    EXPECT_FALSE(contains(err, "[trace]")) << err;
}

} // namespace
