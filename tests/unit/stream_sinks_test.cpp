// Unit tests of the stream mode's sinks with fake outputs, frames and
// headers exactly as MODES.md 3 (long-poll: JSON array, X-Stream-Offset,
// X-Stream-Gap) and 4 (WebSocket: subscribed, messages, gap, error frames).
#include "redis_push/http/batch_sink.hpp"
#include "redis_push/http/context.hpp"
#include "redis_push/http/ws_stream_sink.hpp"

#include "fake_held_response.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

namespace http = rpd::http;
namespace feed = rpd::feed;
using feed::end_reason;

struct recording_ws final : http::ws_output {
    std::vector<std::string> frames;
    void send_text(std::string_view text) override { frames.emplace_back(text); }
};

// ---- ws_stream_sink ------------------------------------------------------------------------

class WsStreamSink : public ::testing::Test {
protected:
    recording_ws out;
    int ends = 0;
    http::ws_stream_sink sink{out, "orders", "1", [this] { ++ends; }};
};

TEST_F(WsStreamSink, SubscribedOnceWithId) {
    sink.opened();
    sink.opened();
    ASSERT_EQ(out.frames.size(), 1u);
    EXPECT_EQ(out.frames[0], R"({"type":"subscribed","stream":"orders","id":1})");
}

TEST_F(WsStreamSink, OneMessagesFramePerBurst) {
    sink.opened();
    sink.event("message", R"({"offset":"1-0","a":1})", "1-0");
    sink.event("message", R"({"offset":"2-0","a":2})", "2-0");
    EXPECT_EQ(out.frames.size(), 1u); // nothing before the burst ends
    sink.flush();
    sink.flush(); // nothing pending: nothing sent
    sink.event("message", R"({"offset":"3-0"})", "3-0");
    sink.flush();
    ASSERT_EQ(out.frames.size(), 3u);
    EXPECT_EQ(out.frames[1], R"({"type":"messages","stream":"orders","messages":[)"
                             R"({"offset":"1-0","a":1},{"offset":"2-0","a":2}]})");
    EXPECT_EQ(out.frames[2],
              R"({"type":"messages","stream":"orders","messages":[{"offset":"3-0"}]})");
    for (const auto& f : out.frames)
        EXPECT_NO_THROW((void)nlohmann::json::parse(f)) << f;
}

TEST_F(WsStreamSink, GapFrameBeforeItsMessages) {
    sink.opened();
    sink.gap("8-0");
    sink.event("message", R"({"offset":"8-0"})", "8-0");
    sink.flush();
    ASSERT_EQ(out.frames.size(), 3u);
    EXPECT_EQ(out.frames[1], R"({"type":"gap","stream":"orders","first":"8-0"})");
    EXPECT_EQ(out.frames[2],
              R"({"type":"messages","stream":"orders","messages":[{"offset":"8-0"}]})");
}

TEST_F(WsStreamSink, GapFlushesEarlierMessagesFirst) {
    sink.event("message", R"({"offset":"1-0"})", "1-0");
    sink.gap("9-0");
    ASSERT_EQ(out.frames.size(), 2u);
    EXPECT_EQ(out.frames[0],
              R"({"type":"messages","stream":"orders","messages":[{"offset":"1-0"}]})");
    EXPECT_EQ(out.frames[1], R"({"type":"gap","stream":"orders","first":"9-0"})");
}

TEST_F(WsStreamSink, ErrorEndIsAnErrorFrameWithId) {
    sink.opened();
    sink.event("message", R"({"offset":"1-0"})", "1-0");
    sink.ended(end_reason::unavailable, "");
    ASSERT_EQ(out.frames.size(), 3u);
    EXPECT_EQ(out.frames[1],
              R"({"type":"messages","stream":"orders","messages":[{"offset":"1-0"}]})");
    EXPECT_EQ(out.frames[2], R"({"type":"error","error":"Redis unavailable","id":1})");
    EXPECT_EQ(ends, 1);
}

TEST_F(WsStreamSink, WrongTypeAndShutdownEnds) {
    sink.ended(end_reason::wrong_type, "");
    ASSERT_EQ(out.frames.size(), 1u);
    EXPECT_EQ(out.frames[0], R"({"type":"error","error":"Wrong type of Redis key","id":1})");
    EXPECT_EQ(ends, 1);
}

TEST_F(WsStreamSink, DeliveredEndSendsNoError) {
    sink.opened();
    sink.ended(end_reason::delivered, "");
    EXPECT_EQ(out.frames.size(), 1u);
    EXPECT_EQ(ends, 1);
}

TEST(WsStreamSinkEcho, StreamAndIdAsTheClientSentThem) {
    recording_ws out;
    http::ws_stream_sink sink(out, "a\"b\\c", R"({"k":[1,"x"]})", nullptr);
    sink.opened();
    sink.gap("1-1");
    sink.ended(end_reason::shutting_down, "");
    ASSERT_EQ(out.frames.size(), 3u);
    EXPECT_EQ(out.frames[0], R"({"type":"subscribed","stream":"a\"b\\c","id":{"k":[1,"x"]}})");
    EXPECT_EQ(out.frames[1], R"({"type":"gap","stream":"a\"b\\c","first":"1-1"})");
    EXPECT_EQ(out.frames[2],
              R"({"type":"error","error":"Server shutting down","id":{"k":[1,"x"]}})");
}

TEST(WsStreamSinkEcho, NoIdNoIdMember) {
    recording_ws out;
    http::ws_stream_sink sink(out, "s", "", nullptr);
    sink.opened();
    sink.ended(end_reason::unavailable, "");
    ASSERT_EQ(out.frames.size(), 2u);
    EXPECT_EQ(out.frames[0], R"({"type":"subscribed","stream":"s"})");
    EXPECT_EQ(out.frames[1], R"({"type":"error","error":"Redis unavailable"})");
}

TEST(WsErrorFrame, TextEscaped) {
    EXPECT_EQ(http::ws_error_frame("Invalid JSON", ""),
              R"({"type":"error","error":"Invalid JSON"})");
    EXPECT_EQ(http::ws_error_frame("a\"b\n", "\"x\""),
              R"({"type":"error","error":"a\"b\n","id":"x"})");
    EXPECT_NO_THROW((void)nlohmann::json::parse(http::ws_error_frame("bad \xff utf8", "null")));
}

// ---- batch_sink ----------------------------------------------------------------------------

using rpd::testing::fake_held;

TEST(BatchSink, MessagesAsOneArrayWithTheLastOffset) {
    fake_held out;
    http::batch_sink sink(out);
    sink.position("0-0");
    sink.opened();
    sink.event("message", R"({"offset":"1-0","a":1})", "1-0");
    sink.event("message", R"({"offset":"2-0","a":"x"})", "2-0");
    sink.flush();
    EXPECT_EQ(out.r.answers, 0);
    sink.ended(end_reason::delivered, "");
    EXPECT_EQ(out.r.answers, 1);
    EXPECT_EQ(out.r.status, 200u);
    EXPECT_EQ(out.r.content_type, "application/json");
    EXPECT_EQ(out.r.body, R"([{"offset":"1-0","a":1},{"offset":"2-0","a":"x"}])");
    EXPECT_EQ(out.r.headers, "X-Stream-Offset: 2-0\r\n");
}

TEST(BatchSink, NothingCameIsEmptyArrayWithThePosition) {
    fake_held out;
    http::batch_sink sink(out);
    sink.position("17-3");
    sink.ended(end_reason::delivered, "");
    EXPECT_EQ(out.r.status, 200u);
    EXPECT_EQ(out.r.body, "[]");
    EXPECT_EQ(out.r.headers, "X-Stream-Offset: 17-3\r\n");
}

TEST(BatchSink, GapHeader) {
    fake_held out;
    http::batch_sink sink(out);
    sink.position("3-0");
    sink.gap("8-0");
    sink.event("message", R"({"offset":"8-0"})", "8-0");
    sink.ended(end_reason::delivered, "");
    EXPECT_EQ(out.r.body, R"([{"offset":"8-0"}])");
    EXPECT_EQ(out.r.headers, "X-Stream-Offset: 8-0\r\nX-Stream-Gap: 8-0\r\n");
}

TEST(BatchSink, ErrorEndsAnswerWithTheirStatus) {
    const std::pair<end_reason, unsigned> cases[] = {{end_reason::unavailable, 503},
                                                     {end_reason::wrong_type, 502},
                                                     {end_reason::shutting_down, 503},
                                                     {end_reason::not_found, 404}};
    for (const auto& [reason, status] : cases) {
        fake_held out;
        http::batch_sink sink(out);
        sink.position("1-0");
        sink.ended(reason, "");
        EXPECT_EQ(out.r.answers, 1);
        EXPECT_TRUE(out.r.error);
        EXPECT_EQ(out.r.status, status);
        EXPECT_EQ(out.r.body, feed::describe(reason).error_text);
    }
}

} // namespace
