// Unit tests of the fetch exchange of one WebSocket connection
// (endpoints::ws_fetches through ws_client; MODES.md 3 "Flow-controlled
// fetch", 4, 6 "Fetch") with no Redis: the command connection never
// connects, so every read is answered `unavailable` (posted). What is
// checked here is the dispatch, the ids, the error frames and that every
// fetch is freed with its socket; rows and acceptances against a real
// Redis are in tests/integration/streams/history_fetch_test.cpp.
#include "redis_push/endpoints/ws_client.hpp"
#include "redis_push/redis/command_connection.hpp"
#include "redis_push/redis/subscriber_pool.hpp"
#include "redis_push/streams/history_service.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace {

namespace endpoints = rpd::endpoints;
using json = nlohmann::json;

struct recording_ws final : rpd::http::ws_output {
    std::vector<json> frames;
    void send_text(std::string_view text) override { frames.push_back(json::parse(text)); }
};

class WsFetch : public ::testing::Test {
protected:
    void SetUp() override {
        names = std::make_unique<endpoints::mode_names>(stream.name_pattern, nullptr, "stream:");
        settings.stream = &stream;
        settings.stream_names = names.get();
        settings.max_subscriptions = 2;
        settings.history = &history;
        client = std::make_unique<endpoints::ws_client>(out, settings);
    }
    void settle() {
        ioc.restart();
        for (int i = 0; i < 10000 && ioc.poll_one() > 0; ++i) {
        }
    }
    std::vector<json> send(const json& m) {
        const auto before = out.frames.size();
        client->on_message(m.dump());
        return {out.frames.begin() + static_cast<std::ptrdiff_t>(before), out.frames.end()};
    }
    static json error(std::string_view text, const json& id) {
        return {{"type", "error"}, {"error", text}, {"id", id}};
    }

    boost::asio::io_context ioc;
    rpd::redis::command_connection commands{ioc, rpd::redis::endpoint{}};
    rpd::streams::history_service history{ioc, commands, {}};
    rpd::config::stream_settings stream;
    std::unique_ptr<endpoints::mode_names> names;
    endpoints::ws_client_settings settings;
    recording_ws out;
    std::unique_ptr<endpoints::ws_client> client;
};

TEST_F(WsFetch, ARedisFailureIsAnErrorFrameAfterTheCallAndFreesTheFetch) {
    EXPECT_TRUE(send({{"type", "fetch"}, {"stream", "s"}, {"id", 1}}).empty())
        << "nothing from inside the call";
    EXPECT_EQ(history.counters().fetches_active, 1u);
    settle();
    ASSERT_EQ(out.frames.size(), 1u);
    EXPECT_EQ(out.frames[0], error("Redis unavailable", 1));
    EXPECT_EQ(history.counters().fetches_active, 0u);
    EXPECT_EQ(history.counters().fetches_failed, 1u);
    // Ended: its id is unknown now, and free for a new fetch.
    EXPECT_EQ(send({{"type", "accepted"}, {"id", 1}}),
              std::vector<json>{error("Unknown fetch", 1)});
    EXPECT_TRUE(send({{"type", "fetch"}, {"stream", "s"}, {"id", 1}}).empty());
}

TEST_F(WsFetch, TheClientsEndIsAnsweredAtOnceAndNothingFollows) {
    send({{"type", "fetch"}, {"stream", "s"}, {"id", "a"}});
    EXPECT_EQ(send({{"type", "end"}, {"id", "a"}}),
              std::vector<json>{json({{"type", "end"}, {"id", "a"}})});
    EXPECT_EQ(history.counters().fetches_active, 0u);
    EXPECT_EQ(history.counters().fetches_stopped, 1u);
    settle(); // the late reply finds nothing
    EXPECT_EQ(out.frames.size(), 1u);
}

TEST_F(WsFetch, ClosingTheSocketFreesEveryFetchAtOnce) {
    send({{"type", "fetch"}, {"stream", "s"}, {"id", 1}});
    send({{"type", "fetch"}, {"stream", "t"}, {"id", 2}});
    EXPECT_EQ(send({{"type", "fetch"}, {"stream", "t"}, {"id", 3}}),
              std::vector<json>{error("Too many fetches", 3)});
    EXPECT_EQ(send({{"type", "fetch"}, {"stream", "t"}, {"id", 2}}),
              std::vector<json>{error("already fetching", 2)});
    EXPECT_EQ(history.counters().fetches_active, 2u);
    client.reset();
    EXPECT_EQ(history.counters().fetches_active, 0u);
    EXPECT_EQ(history.counters().fetches_stopped, 2u);
    settle();
    EXPECT_TRUE(out.frames.size() == 2u);
}

TEST_F(WsFetch, BadRequests) {
    EXPECT_EQ(send({{"type", "fetch"}, {"stream", "s"}})[0]["error"], "Invalid parameter");
    EXPECT_EQ(send({{"type", "fetch"}, {"stream", "s"}, {"id", 1}, {"after", "$"}})[0]["error"],
              "Invalid parameter");
    EXPECT_EQ(send({{"type", "fetch"}, {"stream", "s"}, {"id", 1}, {"from", -1}})[0]["error"],
              "Invalid parameter");
    EXPECT_EQ(
        send({{"type", "fetch"}, {"stream", "s"}, {"id", 1}, {"where", json::array()}})[0]["error"],
        "Invalid parameter");
    EXPECT_EQ(send({{"type", "fetch"}, {"stream", "a b"}, {"id", 1}})[0]["error"], "Invalid name");
    EXPECT_EQ(send({{"type", "end"}, {"id", 5}}), std::vector<json>{error("Unknown fetch", 5)});
    EXPECT_EQ(history.counters().fetches_active, 0u);
}

} // namespace
