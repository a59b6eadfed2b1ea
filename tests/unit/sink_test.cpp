// The transports' sinks through the real session: a test endpoint holds
// each request on a feed whose source the test drives by hand, so every
// byte of the long-poll and SSE framing is checked without Redis.

#include "redis_push/http/session.hpp"
#include "redis_push/http/sse_sink.hpp"
#include "test_byte_stream.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace {

namespace http = rpd::http;
namespace feed = rpd::feed;
using test_stream = boost::beast::test::stream;

struct hand_source final : feed::source {
    feed::sink* sink = nullptr;
    bool cancelled = false;
    void cancel() noexcept override {
        cancelled = true;
        sink = nullptr;
    }
};

// GET /sse and GET /poll hold a hand-driven feed on that transport.
struct holding_endpoint final : http::endpoint {
    std::shared_ptr<hand_source> last;
    void serve(http::exchange& ex) override {
        const auto t = ex.req().path == "/sse" ? http::transport::sse : http::transport::long_poll;
        ex.count_as(http::request_mode::watch);
        ex.hold(t, [this](feed::sink& s) {
            last = std::make_shared<hand_source>();
            last->sink = &s;
            return feed::handle(last);
        });
    }
};

class Sinks : public ::testing::Test {
protected:
    void SetUp() override {
        settings.watch.keepalive = std::chrono::seconds(0);
        ctx = std::make_unique<http::context>(settings);
        ctx->routes.add_exact("/sse", endpoint);
        ctx->routes.add_exact("/poll", endpoint);
        test_stream server(ioc);
        if (write_size > 0)
            server.write_size(write_size);
        client.connect(server);
        auto s = std::make_shared<http::session>(rpd::testing::make_test_stream(std::move(server)),
                                                 *ctx);
        session = s;
        s->run();
        settle();
    }
    void TearDown() override {
        if (auto s = session.lock())
            s->abort();
        settle();
        EXPECT_TRUE(session.expired());
    }
    void settle() {
        ioc.restart();
        for (int i = 0; i < 10000 && ioc.poll() > 0; ++i) {
        }
    }
    void send(std::string_view bytes) {
        boost::asio::write(client, boost::asio::buffer(bytes.data(), bytes.size()));
        settle();
    }
    std::string take() {
        settle();
        std::string s(client.str());
        client.clear();
        return s;
    }
    feed::sink& sink() { return *endpoint.last->sink; }

    boost::asio::io_context ioc;
    rpd::config::settings settings;
    std::size_t write_size = 0; // bytes per write_some of the session; 0 = no limit
    holding_endpoint endpoint;
    std::unique_ptr<http::context> ctx;
    test_stream client{ioc};
    std::weak_ptr<http::session> session;
};

constexpr std::string_view sse_head = "HTTP/1.1 200 OK\r\n"
                                      "Content-Type: text/event-stream\r\n"
                                      "Cache-Control: no-store\r\n"
                                      "X-Accel-Buffering: no\r\n"
                                      "Transfer-Encoding: chunked\r\n"
                                      "\r\n";

TEST(SseFraming, OneDataLinePerLine) {
    std::string out;
    http::append_sse_event(out, "update", "a\nb\r\nc\rd");
    EXPECT_EQ(out, "event: update\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
}

TEST(SseFraming, EmptyAndTrailingLines) {
    std::string out;
    http::append_sse_event(out, "done", "");
    EXPECT_EQ(out, "event: done\ndata: \n\n");
    out.clear();
    http::append_sse_event(out, "done", "x\n");
    EXPECT_EQ(out, "event: done\ndata: x\ndata: \n\n");
}

TEST_F(Sinks, SseStreamsEventsAsChunksAndEnds) {
    send("GET /sse HTTP/1.1\r\n\r\n");
    EXPECT_EQ(take(), "");
    sink().opened();
    EXPECT_EQ(take(), std::string(sse_head) + "d\r\nretry: 3000\n\n\r\n");
    EXPECT_EQ(ctx->metrics.sse_connections, 1u);
    sink().event("update", "{\"a\":1}", {});
    EXPECT_EQ(take(), "1d\r\nevent: update\ndata: {\"a\":1}\n\n\r\n");
    sink().event("done", "{}", {});
    EXPECT_EQ(take(), "16\r\nevent: done\ndata: {}\n\n\r\n");
    sink().ended(feed::end_reason::delivered, {});
    EXPECT_EQ(take(), "0\r\n\r\n");
    EXPECT_EQ(ctx->metrics.sse_connections, 0u);
    EXPECT_FALSE(session.expired()); // keep-alive: the next request is read
    send("GET /nope HTTP/1.1\r\n\r\n");
    EXPECT_NE(take().find("404 Not Found"), std::string::npos);
}

TEST_F(Sinks, SseErrorEndsWithAnErrorEvent) {
    send("GET /sse HTTP/1.1\r\n\r\n");
    sink().opened();
    take();
    sink().ended(feed::end_reason::killed, {});
    const std::string data =
        R"({"status":"error","error_message":"Killed due to another concurrent request for this task"})";
    const std::string event = "event: error\ndata: " + data + "\n\n";
    char size[16];
    std::snprintf(size, sizeof size, "%zx", event.size());
    EXPECT_EQ(take(), std::string(size) + "\r\n" + event + "\r\n0\r\n\r\n");
    EXPECT_EQ(ctx->metrics.requests[static_cast<std::size_t>(http::request_mode::watch)]
                                   [static_cast<std::size_t>(http::request_result::killed)],
              1u);
}

TEST_F(Sinks, SseEndingBeforeItOpensIsAPlainAnswer) {
    send("GET /sse HTTP/1.1\r\n\r\n");
    sink().ended(feed::end_reason::not_found, {});
    const std::string out = take();
    EXPECT_TRUE(out.starts_with("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"))
        << out;
    EXPECT_TRUE(out.ends_with(R"({"status":"error","error_message":"Not Found"})")) << out;
    EXPECT_EQ(ctx->metrics.sse_connections, 0u);
}

TEST_F(Sinks, SseHttp10IsCloseDelimited) {
    send("GET /sse HTTP/1.0\r\n\r\n");
    sink().opened();
    EXPECT_EQ(take(), "HTTP/1.1 200 OK\r\n"
                      "Content-Type: text/event-stream\r\n"
                      "Cache-Control: no-store\r\n"
                      "X-Accel-Buffering: no\r\n"
                      "Connection: close\r\n"
                      "\r\n"
                      "retry: 3000\n\n");
    sink().event("update", "x", {});
    EXPECT_EQ(take(), "event: update\ndata: x\n\n");
    sink().ended(feed::end_reason::delivered, {});
    take();
    settle();
    EXPECT_TRUE(session.expired());
}

TEST_F(Sinks, LongPollIgnoresEventsAndAnswersOnce) {
    send("GET /poll HTTP/1.1\r\n\r\n");
    sink().opened();
    EXPECT_EQ(take(), "HTTP/1.1 200 OK\r\n"
                      "Content-Type: application/json\r\n"
                      "Cache-Control: no-store\r\n"
                      "X-Accel-Buffering: no\r\n"
                      "Transfer-Encoding: chunked\r\n"
                      "\r\n");
    sink().event("update", "ignored", {});
    EXPECT_EQ(take(), "");
    sink().ended(feed::end_reason::delivered, "{\"v\":2}");
    EXPECT_EQ(take(), "7\r\n{\"v\":2}\r\n0\r\n\r\n");
}

TEST_F(Sinks, ClientLeavingCancelsTheFeedAtOnce) {
    send("GET /sse HTTP/1.1\r\n\r\n");
    sink().opened();
    take();
    auto source = endpoint.last;
    client.close();
    settle();
    EXPECT_TRUE(source->cancelled);
    EXPECT_TRUE(session.expired());
    EXPECT_EQ(ctx->metrics.sse_connections, 0u);
    EXPECT_EQ(ctx->metrics.connections_open, 0u);
}

TEST_F(Sinks, AbortCancelsAFeedNotYetOpen) {
    send("GET /poll HTTP/1.1\r\n\r\n");
    auto source = endpoint.last;
    session.lock()->abort();
    settle();
    EXPECT_TRUE(source->cancelled);
}

// A client that takes its bytes one at a time while events pile up behind
// them is dropped from inside the sink's own call: the sink must survive
// that call and the feed be cancelled.
class SlowSinks : public Sinks {
protected:
    void SetUp() override {
        write_size = 1;
        settings.http.max_output_bytes = 64;
        Sinks::SetUp();
    }
};

TEST_F(SlowSinks, DroppedFromInsideAnEvent) {
    send("GET /sse HTTP/1.1\r\n\r\n");
    sink().opened(); // the head's write is now in flight, a byte at a time
    ioc.restart();
    ioc.run_one(); // one byte taken: a partial write, the client is stalled
    auto source = endpoint.last;
    sink().event("update", std::string(100, 'x'), {});
    EXPECT_TRUE(source->cancelled);
    settle();
    EXPECT_TRUE(session.expired());
    EXPECT_EQ(ctx->metrics.slow_clients_dropped, 1u);
    EXPECT_EQ(ctx->metrics.sse_connections, 0u);
}

} // namespace
