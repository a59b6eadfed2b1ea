// An endpoint that takes the connection over (the WebSocket upgrade's
// seam): it gets the stream, the bytes already read past the head and the
// head; the HTTP session ends without closing the connection, which stays
// in the connection count until its new owner lets it go.

#include "redis_push/http/session.hpp"
#include "test_byte_stream.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

namespace {

namespace http = rpd::http;
using test_stream = boost::beast::test::stream;

struct adopting_endpoint final : http::endpoint {
    std::optional<http::taken_connection> taken;
    void serve(http::exchange& ex) override {
        ex.take_over(http::request_result::ok,
                     [this](http::taken_connection&& c) { taken.emplace(std::move(c)); });
    }
};

class TakeOver : public ::testing::Test {
protected:
    void SetUp() override {
        ctx = std::make_unique<http::context>(settings);
        ctx->routes.add_exact("/up", endpoint);
        test_stream server(ioc);
        client.connect(server);
        auto s = std::make_shared<http::session>(rpd::testing::make_test_stream(std::move(server)),
                                                 *ctx);
        session = s;
        s->run();
        settle();
    }
    void settle() {
        ioc.restart();
        for (int i = 0; i < 10000 && ioc.poll() > 0; ++i) {
        }
    }

    boost::asio::io_context ioc;
    rpd::config::settings settings;
    adopting_endpoint endpoint;
    std::unique_ptr<http::context> ctx;
    test_stream client{ioc};
    std::weak_ptr<http::session> session;
};

TEST_F(TakeOver, TheAdopterGetsTheStreamTheHeadAndWhatFollowedIt) {
    const std::string head =
        "GET /up HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    boost::asio::write(client, boost::asio::buffer(head + "early bytes"));
    settle();
    ASSERT_TRUE(endpoint.taken);
    auto& c = *endpoint.taken;
    EXPECT_EQ(c.head.target(), "/up");
    EXPECT_EQ(c.head[boost::beast::http::field::upgrade], "websocket");
    EXPECT_EQ(boost::beast::buffers_to_string(c.buffer.data()), "early bytes");
    EXPECT_TRUE(session.expired()) << "the HTTP session ends";
    EXPECT_TRUE(ctx->sessions.empty()) << "shutdown no longer reaches it through the session";
    EXPECT_EQ(ctx->metrics.connections_open, 1u) << "still an open connection";
    EXPECT_EQ(client.str(), "") << "the session wrote nothing";

    // The stream works for its new owner, both ways.
    struct result {
        bool done = false;
        std::size_t n = 0;
    };
    auto wrote = std::make_shared<result>();
    c.stream.async_write_some(boost::asio::buffer(std::string_view("hello")),
                              [wrote](const boost::system::error_code& ec, std::size_t n) {
                                  wrote->done = !ec;
                                  wrote->n = n;
                              });
    settle();
    EXPECT_TRUE(wrote->done);
    EXPECT_EQ(client.str(), "hello");

    endpoint.taken.reset(); // the owner lets go
    EXPECT_EQ(ctx->metrics.connections_open, 0u);
}

} // namespace
