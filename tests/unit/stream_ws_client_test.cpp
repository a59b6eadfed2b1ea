// Unit tests of endpoints::ws_client, the WebSocket protocol of the stream
// mode (MODES.md 4, 6 "WebSocket"), with a recording ws_output and no
// Redis: the stream_service runs over connections that were never started,
// so every command is answered "unavailable" (posted).
#include "redis_push/config/config.hpp"
#include "redis_push/endpoints/mode_name.hpp"
#include "redis_push/endpoints/ws_client.hpp"
#include "redis_push/redis/command_connection.hpp"
#include "redis_push/redis/subscriber_pool.hpp"
#include "redis_push/streams/stream_service.hpp"
#include "redis_push/tasks/task_signer.hpp"

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
    std::vector<std::string> frames;
    void send_text(std::string_view text) override { frames.emplace_back(text); }
};

class WsClient : public ::testing::Test {
protected:
    void make(bool stream_mode = true) {
        names = std::make_unique<endpoints::mode_names>(stream.name_pattern, name_signer.get(),
                                                        "stream:");
        settings.streams = stream_mode ? &streams : nullptr;
        settings.stream = &stream;
        settings.stream_names = names.get();
        settings.publish_signer = publish_signer.get();
        client = std::make_unique<endpoints::ws_client>(out, settings);
    }
    void TearDown() override {
        client.reset();
        settle();
        EXPECT_EQ(streams.counters().subscribers, 0u);
        EXPECT_EQ(streams.channel_count(), 0u);
    }
    void settle() {
        ioc.restart();
        for (int i = 0; i < 10000 && ioc.poll_one() > 0; ++i) {
        }
    }
    // Sends one message; returns the frames sent during the call.
    std::vector<std::string> send(std::string_view text) {
        const auto before = out.frames.size();
        client->on_message(text);
        return {out.frames.begin() + static_cast<std::ptrdiff_t>(before), out.frames.end()};
    }
    std::vector<json> send_json(const json& m) {
        std::vector<json> r;
        for (const auto& f : send(m.dump()))
            r.push_back(json::parse(f));
        return r;
    }
    static json error(std::string_view text) { return {{"type", "error"}, {"error", text}}; }
    static json error(std::string_view text, const json& id) {
        auto e = error(text);
        e["id"] = id;
        return e;
    }

    boost::asio::io_context ioc;
    rpd::redis::command_connection commands{ioc, rpd::redis::endpoint{}};
    rpd::redis::subscriber_pool subscribers{ioc, rpd::redis::endpoint{}, 2, "RA_probe"};
    rpd::streams::stream_service streams{ioc, commands, subscribers, {}};
    rpd::config::stream_settings stream;
    std::unique_ptr<rpd::tasks::task_signer> name_signer;
    std::unique_ptr<rpd::tasks::task_signer> publish_signer;
    std::unique_ptr<endpoints::mode_names> names;
    endpoints::ws_client_settings settings;
    recording_ws out;
    std::unique_ptr<endpoints::ws_client> client;
};

TEST_F(WsClient, InvalidJsonIsOneErrorFrameWithoutId) {
    make();
    for (const std::string text :
         {"", "not json", "{", R"({"type":"subscribe","id":1)", R"({"id":1} x)", "\xff",
          R"({"id":1,})", "[1]", R"([{"id":1}])", "1", "null", R"("s")"}) {
        const auto frames = send(text);
        ASSERT_EQ(frames.size(), 1u) << text;
        EXPECT_EQ(frames[0], R"({"type":"error","error":"Invalid JSON"})") << text;
    }
}

TEST_F(WsClient, UnknownOrMissingTypeEchoesTheId) {
    make();
    EXPECT_EQ(send_json({{"type", "nope"}, {"id", 7}}),
              std::vector<json>{error("Unknown type", 7)});
    EXPECT_EQ(send_json({{"id", {{"k", {1, "x"}}}}}),
              std::vector<json>{error("Unknown type", {{"k", {1, "x"}}})});
    EXPECT_EQ(send_json({{"type", 1}}), std::vector<json>{error("Unknown type")});
    // The daemon's frame types are not the client's.
    EXPECT_EQ(send_json({{"type", "row"}, {"id", nullptr}}),
              std::vector<json>{error("Unknown type", nullptr)});
    // fetch / accepted / end are the history mode's; off here.
    EXPECT_EQ(send_json({{"type", "fetch"}, {"id", nullptr}}),
              std::vector<json>{error("History mode is switched off", nullptr)});
}

TEST_F(WsClient, StreamModeOff) {
    make(false);
    EXPECT_EQ(send_json({{"type", "subscribe"}, {"stream", "s"}, {"id", 1}}),
              std::vector<json>{error("Stream mode is switched off", 1)});
}

TEST_F(WsClient, BadNames) {
    make();
    for (const json& stream :
         {json("a b"), json(""), json(1), json(nullptr), json("%41"), json(std::string(201, 'a'))})
        EXPECT_EQ(send_json({{"type", "subscribe"}, {"stream", stream}, {"id", "x"}}),
                  std::vector<json>{error("Invalid name", "x")})
            << stream;
    EXPECT_EQ(send_json({{"type", "subscribe"}, {"id", "x"}}),
              std::vector<json>{error("Invalid name", "x")});
}

TEST_F(WsClient, SignedNames) {
    name_signer = std::make_unique<rpd::tasks::task_signer>("ws-secret", 8);
    make();
    EXPECT_EQ(send_json({{"type", "subscribe"}, {"stream", "orders"}}),
              std::vector<json>{error("Invalid signature")});
    EXPECT_EQ(send_json({{"type", "subscribe"},
                         {"stream", "orders." + name_signer->sign("queue:orders")}}),
              std::vector<json>{error("Invalid signature")});
    EXPECT_TRUE(send_json({{"type", "subscribe"},
                           {"stream", "orders." + name_signer->sign("stream:orders")}})
                    .empty());
}

TEST_F(WsClient, BadOffsetsAndGroups) {
    make();
    for (const json& offset : {json("-1"), json("x"), json(""), json("1-2-3"), json(1), json(-0.5),
                               json(nullptr), json("18446744073709551616"), json(" 1")})
        EXPECT_EQ(send_json({{"type", "subscribe"}, {"stream", "s"}, {"offset", offset}}),
                  std::vector<json>{error("Invalid parameter")})
            << offset;
    EXPECT_EQ(send_json({{"type", "subscribe"}, {"stream", "s"}, {"group", "g"}}),
              std::vector<json>{error("Invalid parameter")});
    EXPECT_EQ(send_json({{"type", "subscribe"}, {"stream", "s"}, {"consumer", "c"}}),
              std::vector<json>{error("Invalid parameter")});
    EXPECT_EQ(send_json({{"type", "subscribe"}, {"stream", "s"}, {"group", ""}, {"consumer", "c"}}),
              std::vector<json>{error("Invalid parameter")});
}

TEST_F(WsClient, OffsetZeroAsNumberOrText) {
    make();
    EXPECT_TRUE(send_json({{"type", "subscribe"}, {"stream", "a"}, {"offset", 0}}).empty());
    EXPECT_TRUE(send_json({{"type", "subscribe"}, {"stream", "b"}, {"offset", "0"}}).empty());
    EXPECT_TRUE(send_json({{"type", "subscribe"}, {"stream", "c"}, {"offset", "$"}}).empty());
    EXPECT_TRUE(send_json({{"type", "subscribe"}, {"stream", "d"}}).empty());
}

TEST_F(WsClient, SecondSubscribeIsAnErrorAndTheFirstStays) {
    make();
    EXPECT_TRUE(send_json({{"type", "subscribe"}, {"stream", "s"}, {"id", 1}}).empty());
    EXPECT_EQ(send_json({{"type", "subscribe"}, {"stream", "s"}, {"id", 2}}),
              std::vector<json>{error("already subscribed", 2)});
    EXPECT_EQ(send_json({{"type", "unsubscribe"}, {"stream", "s"}, {"id", 3}}),
              (std::vector<json>{{{"type", "unsubscribed"}, {"stream", "s"}, {"id", 3}}}));
    EXPECT_EQ(send_json({{"type", "unsubscribe"}, {"stream", "s"}}),
              std::vector<json>{error("not subscribed")});
}

TEST_F(WsClient, MaxSubscriptions) {
    settings.max_subscriptions = 2;
    make();
    EXPECT_TRUE(send_json({{"type", "subscribe"}, {"stream", "a"}}).empty());
    EXPECT_TRUE(send_json({{"type", "subscribe"}, {"stream", "b"}}).empty());
    EXPECT_EQ(send_json({{"type", "subscribe"}, {"stream", "c"}, {"id", 3}}),
              std::vector<json>{error("Too many subscriptions", 3)});
    send_json({{"type", "unsubscribe"}, {"stream", "a"}});
    EXPECT_TRUE(send_json({{"type", "subscribe"}, {"stream", "c"}}).empty());
}

TEST_F(WsClient, RedisDownEndsTheSubscriptionWithAnErrorAndFreesIt) {
    make();
    EXPECT_TRUE(send_json({{"type", "subscribe"}, {"stream", "s"}, {"id", "a"}}).empty());
    settle();
    ASSERT_FALSE(out.frames.empty());
    EXPECT_EQ(json::parse(out.frames.back()), error("Redis unavailable", "a"));
    // Ended: the name is free again.
    EXPECT_TRUE(send_json({{"type", "subscribe"}, {"stream", "s"}, {"id", "b"}}).empty());
}

TEST_F(WsClient, PublishGate) {
    make();
    EXPECT_EQ(send_json({{"type", "publish"}, {"stream", "s"}, {"fields", {{"a", 1}}}, {"id", 1}}),
              std::vector<json>{error("Method Not Allowed", 1)});
}

TEST_F(WsClient, PublishTokenAndParameters) {
    stream.allow_publish = true;
    publish_signer = std::make_unique<rpd::tasks::task_signer>("ws-secret", 32);
    make();
    const json fields = {{"a", 1}};
    EXPECT_EQ(send_json({{"type", "publish"}, {"stream", "s"}, {"fields", fields}}),
              std::vector<json>{error("Forbidden")});
    EXPECT_EQ(send_json({{"type", "publish"},
                         {"stream", "s"},
                         {"fields", fields},
                         {"token", publish_signer->sign("stream:s")}}),
              std::vector<json>{error("Forbidden")});
    const auto token = publish_signer->sign("publish:s");
    EXPECT_EQ(send_json({{"type", "publish"}, {"stream", "s"}, {"fields", {1}}, {"token", token}}),
              std::vector<json>{error("Invalid message")});
    for (const json& maxlen : {json(-1), json(1.5), json("10"), json(nullptr)})
        EXPECT_EQ(send_json({{"type", "publish"},
                             {"stream", "s"},
                             {"fields", fields},
                             {"token", token},
                             {"maxlen", maxlen}}),
                  std::vector<json>{error("Invalid parameter")})
            << maxlen;
    EXPECT_TRUE(send_json({{"type", "publish"},
                           {"stream", "s"},
                           {"fields", fields},
                           {"token", token},
                           {"maxlen", 5},
                           {"id", 9}})
                    .empty());
    settle();
    EXPECT_EQ(json::parse(out.frames.back()), error("Redis unavailable", 9));
}

TEST_F(WsClient, Ack) {
    make();
    EXPECT_EQ(send_json({{"type", "ack"},
                         {"stream", "s"},
                         {"group", "g"},
                         {"offsets", json::array()},
                         {"id", 1}}),
              (std::vector<json>{{{"type", "acked"}, {"stream", "s"}, {"acked", 0}, {"id", 1}}}));
    for (const json& offsets : {json({1}), json({"x"}), json("1-1"), json({"1-1", "-1"})})
        EXPECT_EQ(
            send_json({{"type", "ack"}, {"stream", "s"}, {"group", "g"}, {"offsets", offsets}}),
            std::vector<json>{error("Invalid parameter")})
            << offsets;
    EXPECT_EQ(send_json({{"type", "ack"}, {"stream", "s"}, {"offsets", {"1-1"}}}),
              std::vector<json>{error("Invalid parameter")});
}

// A deeply nested "id" (200000 levels) would overflow the stack when echoed
// (nlohmann's serializer recurses): a message nested deeper than
// util::max_json_depth is "Invalid JSON", without an id.
TEST_F(WsClient, TooDeeplyNestedMessageIsInvalidJson) {
    make();
    const std::size_t depth = 200000;
    const std::string id = std::string(depth, '[') + std::string(depth, ']');
    const auto frames = send(R"({"type":"nope","id":)" + id + "}");
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0], R"({"type":"error","error":"Invalid JSON"})");
}

} // namespace
