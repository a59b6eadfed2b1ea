// Unit tests of what the queue and mailbox modes hand to transports
// (MODES.md 1, 2, 6): the receipt that returns a taken item unless it was
// written, the one-answer item sink (body, content type, X-Delivery-Id,
// 504), the WebSocket mailbox sink (raw frames, "replaced"), and the JSON
// rule for stored values.
#include "redis_push/feed/receipt.hpp"
#include "redis_push/http/item_sink.hpp"
#include "redis_push/http/ws_mailbox_sink.hpp"
#include "redis_push/util/json_value.hpp"

#include "fake_held_response.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

namespace http = rpd::http;
namespace feed = rpd::feed;
using feed::end_reason;
using rpd::testing::fake_held;

// ---- receipt ------------------------------------------------------------------------------

struct settlements {
    std::vector<bool> seen;
    feed::receipt make() {
        return feed::receipt::of([this](bool written) { seen.push_back(written); });
    }
};

TEST(Receipt, SettlesOnceWithWhatHappened) {
    settlements s;
    auto r = s.make();
    r.settle(true);
    r.settle(false);
    EXPECT_EQ(s.seen, std::vector<bool>{true});
}

TEST(Receipt, DroppedUnsettledGivesTheItemBack) {
    settlements s;
    { auto r = s.make(); }
    EXPECT_EQ(s.seen, std::vector<bool>{false});
}

TEST(Receipt, OverwritingOneGivesItsItemBack) {
    settlements s;
    auto a = s.make();
    a = s.make();
    EXPECT_EQ(s.seen, std::vector<bool>{false});
    a.settle(true);
    EXPECT_EQ(s.seen, (std::vector<bool>{false, true}));
}

TEST(Receipt, MovedFromIsEmpty) {
    settlements s;
    auto a = s.make();
    auto b = std::move(a);
    EXPECT_FALSE(static_cast<bool>(a));
    EXPECT_TRUE(static_cast<bool>(b));
    a.settle(false); // nothing: it has no item
    EXPECT_TRUE(s.seen.empty());
}

// ---- item_sink ----------------------------------------------------------------------------

TEST(ItemSink, JsonMessageWithItsDeliveryIdAndTheReceiptGoesToTheWrite) {
    fake_held out;
    settlements s;
    http::item_sink sink(out);
    sink.hand_over(s.make());
    sink.event("json", R"({"job":1})", "abc-1");
    EXPECT_EQ(out.r.answers, 0);
    sink.ended(end_reason::delivered, {});
    EXPECT_EQ(out.r.status, 200u);
    EXPECT_EQ(out.r.body, R"({"job":1})");
    EXPECT_EQ(out.r.content_type, "application/json");
    EXPECT_EQ(out.r.headers, "X-Delivery-Id: abc-1\r\n");
    EXPECT_TRUE(s.seen.empty()); // the session settles it once written
    out.receipt.settle(true);
    EXPECT_EQ(s.seen, std::vector<bool>{true});
}

TEST(ItemSink, TextMessageIsPlainText) {
    fake_held out;
    http::item_sink sink(out);
    sink.event("text", "hello", {});
    sink.ended(end_reason::delivered, {});
    EXPECT_EQ(out.r.body, "hello");
    EXPECT_EQ(out.r.content_type, "text/plain; charset=utf-8");
    EXPECT_EQ(out.r.headers, "");
}

TEST(ItemSink, TimeOutIs504TimedOut) {
    fake_held out;
    http::item_sink sink(out);
    sink.ended(end_reason::expired, {});
    EXPECT_EQ(out.r.status, 504u);
    EXPECT_TRUE(out.r.error);
    EXPECT_EQ(out.r.body, "Timed out");
}

TEST(ItemSink, AnErrorEndReturnsAnItemItHeld) {
    fake_held out;
    settlements s;
    {
        http::item_sink sink(out);
        sink.hand_over(s.make());
        sink.ended(end_reason::shutting_down, {});
    }
    EXPECT_EQ(s.seen, std::vector<bool>{false});
}

TEST(ItemSink, LengthIsAHeaderWithoutBody) {
    fake_held out;
    http::item_sink sink(out);
    sink.event("length", "7", {});
    sink.ended(end_reason::found, {});
    EXPECT_EQ(out.r.status, 200u);
    EXPECT_EQ(out.r.body, "");
    EXPECT_EQ(out.r.headers, "X-Queue-Length: 7\r\n");
}

TEST(ItemSink, AcknowledgedIs204) {
    fake_held out;
    http::item_sink sink(out);
    sink.ended(end_reason::acknowledged, {});
    EXPECT_EQ(out.r.status, 204u);
    EXPECT_FALSE(out.r.error);
}

// ---- ws_mailbox_sink ----------------------------------------------------------------------

struct recording_ws final : http::ws_output {
    std::vector<std::string> frames;
    std::vector<feed::receipt> receipts;
    void send_text(std::string_view text) override { frames.emplace_back(text); }
    void send_item(std::string_view text, feed::receipt written) override {
        frames.emplace_back(text);
        receipts.push_back(std::move(written));
    }
};

TEST(WsMailboxSink, EachMessageIsOneRawFrameWithItsReceipt) {
    recording_ws out;
    settlements s;
    http::ws_mailbox_sink sink(out);
    sink.hand_over(s.make());
    sink.event("message", R"({"a":1})", {});
    sink.hand_over(s.make());
    sink.event("message", "not json", {});
    EXPECT_EQ(out.frames, (std::vector<std::string>{R"({"a":1})", "not json"}));
    ASSERT_EQ(out.receipts.size(), 2u);
    out.receipts[0].settle(true);
    out.receipts[1].settle(false);
    EXPECT_EQ(s.seen, (std::vector<bool>{true, false}));
}

TEST(WsMailboxSink, ReplacedAndErrorsInTheIdentifyShape) {
    recording_ws out;
    http::ws_mailbox_sink sink(out);
    sink.ended(end_reason::killed, {});
    sink.ended(end_reason::wrong_type, {});
    EXPECT_EQ(out.frames,
              (std::vector<std::string>{R"({"event":"error","error":"replaced"})",
                                        R"({"event":"error","error":"Wrong type of Redis key"})"}));
    EXPECT_EQ(http::ws_event_error("Invalid signature"),
              R"({"event":"error","error":"Invalid signature"})");
}

// ---- stored values ------------------------------------------------------------------------

TEST(JsonValue, WhatCountsAsJson) {
    using rpd::util::is_json;
    EXPECT_TRUE(is_json(R"({"a":[1,2]})"));
    EXPECT_TRUE(is_json("42"));
    EXPECT_TRUE(is_json(R"("s")"));
    EXPECT_FALSE(is_json("hello"));
    EXPECT_FALSE(is_json(""));
    EXPECT_FALSE(is_json(std::string_view("{\"a\":1}\0", 8)));
    EXPECT_FALSE(is_json(std::string(5000, '[') + std::string(5000, ']')));
}

TEST(JsonValue, NonJsonBecomesAJsonString) {
    std::string out;
    rpd::util::append_json_value(out, "plain \"text\"");
    out.push_back(',');
    rpd::util::append_json_value(out, R"( { "a" : 1 } )");
    EXPECT_EQ(out, R"("plain \"text\"",{"a":1})");
}

} // namespace
