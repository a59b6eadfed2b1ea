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
#include <boost/beast/websocket/stream.hpp>
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

// The seam end to end with Beast on both sides: a websocket client's
// upgrade request is read by the session, the endpoint takes the
// connection over into a websocket::stream over the byte_stream, accepts
// the upgrade with the head it got, and echoes a message.
namespace {

namespace websocket = boost::beast::websocket;

struct websocket_endpoint final : http::endpoint {
    std::unique_ptr<websocket::stream<http::byte_stream>> ws;
    std::unique_ptr<rpd::http::connection_slot> slot;
    boost::beast::flat_buffer in;
    std::string echoed;
    void serve(http::exchange& ex) override {
        ex.take_over(http::request_result::ok, [this](http::taken_connection&& c) {
            ws = std::make_unique<websocket::stream<http::byte_stream>>(std::move(c.stream));
            slot = std::make_unique<rpd::http::connection_slot>(std::move(c.slot));
            // Bytes read past the head belong to the websocket now.
            in = std::move(c.buffer);
            ws->async_accept(c.head, [this](const boost::system::error_code& ec) {
                ASSERT_FALSE(ec) << ec.message();
                ws->async_read(in, [this](const boost::system::error_code& ec, std::size_t) {
                    ASSERT_FALSE(ec) << ec.message();
                    echoed = boost::beast::buffers_to_string(in.data());
                    ws->text(true);
                    ws->async_write(boost::asio::buffer(echoed),
                                    [](const boost::system::error_code&, std::size_t) {});
                });
            });
        });
    }
};

TEST(TakeOverWebSocket, BeastAcceptsTheUpgradeOverTheTakenConnection) {
    boost::asio::io_context ioc;
    rpd::config::settings settings;
    http::context ctx(settings);
    websocket_endpoint endpoint;
    ctx.routes.add_exact("/ws", endpoint);
    test_stream server(ioc);
    test_stream client_stream(ioc);
    client_stream.connect(server);
    std::make_shared<http::session>(rpd::testing::make_test_stream(std::move(server)), ctx)->run();
    const auto settle = [&] {
        ioc.restart();
        for (int i = 0; i < 10000 && ioc.poll() > 0; ++i) {
        }
    };
    settle();

    websocket::stream<test_stream&> client(client_stream);
    boost::system::error_code handshake_ec = boost::asio::error::would_block;
    client.async_handshake("localhost", "/ws",
                           [&](const boost::system::error_code& ec) { handshake_ec = ec; });
    settle();
    ASSERT_FALSE(handshake_ec) << handshake_ec.message();
    EXPECT_TRUE(ctx.sessions.empty());
    EXPECT_EQ(ctx.metrics.connections_open, 1u);

    client.text(true);
    client.async_write(boost::asio::buffer(std::string_view("ping")),
                       [](const boost::system::error_code&, std::size_t) {});
    boost::beast::flat_buffer reply;
    std::string got;
    client.async_read(reply, [&](const boost::system::error_code& ec, std::size_t) {
        if (!ec)
            got = boost::beast::buffers_to_string(reply.data());
    });
    settle();
    EXPECT_EQ(endpoint.echoed, "ping");
    EXPECT_EQ(got, "ping");
}

} // namespace
