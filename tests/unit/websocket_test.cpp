// The WebSocket transport: ws_endpoint (426, 403, the upgrade) and
// websocket_session (messages both ways, the read limit, the slow-client
// rule, pings, shutdown, the handler's life), with Beast's websocket client
// on the other end of a beast::test::stream or of a loopback TCP socket.

#include "redis_push/endpoints/ws_endpoint.hpp"
#include "redis_push/http/session.hpp"
#include "redis_push/http/tcp_stream.hpp"
#include "redis_push/http/websocket_session.hpp"
#include "test_byte_stream.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace http = rpd::http;
namespace websocket = boost::beast::websocket;
using test_stream = boost::beast::test::stream;
using boost::system::error_code;
using namespace std::chrono_literals;

// What the handlers saw; outlives them.
struct probe {
    std::vector<std::string> got;
    int made = 0;
    int destroyed = 0;
};

// Echoes each message; "flood" answers with `flood_frames` frames of
// `flood_bytes`.
struct echo_handler final : http::ws_handler {
    echo_handler(http::ws_output& out, std::shared_ptr<probe> p) : out_(out), p_(std::move(p)) {
        ++p_->made;
    }
    ~echo_handler() override { ++p_->destroyed; }
    void on_message(std::string_view text) override {
        p_->got.emplace_back(text);
        if (text == "flood") {
            const std::string frame(flood_bytes, 'x');
            for (int i = 0; i < flood_frames; ++i)
                out_.send_text(frame);
            return;
        }
        out_.send_text(text);
    }
    static inline std::size_t flood_bytes = 4096;
    static inline int flood_frames = 8;

private:
    http::ws_output& out_;
    std::shared_ptr<probe> p_;
};

// Runs the loop until `done` or the deadline; whether it came true.
template <class Pred>
bool run_until(boost::asio::io_context& ioc, Pred done, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= end)
            return false;
        ioc.restart();
        ioc.run_for(5ms);
    }
    return true;
}

class WebSocket : public ::testing::Test {
protected:
    // The connection ends before the context its session counts in.
    void TearDown() override {
        client_stream.close();
        settle();
        if (ctx) {
            EXPECT_EQ(ctx->metrics.connections_open, 0u);
            EXPECT_EQ(ctx->metrics.ws_connections, 0u);
            EXPECT_TRUE(ctx->sessions.empty());
        }
    }
    void start(http::ws_limits limits = {}) {
        ctx = std::make_unique<http::context>(settings);
        endpoint = std::make_unique<rpd::endpoints::ws_endpoint>(
            *ctx,
            [p = seen](http::ws_output& out) { return std::make_unique<echo_handler>(out, p); },
            limits);
        ctx->routes.add_exact("/ws", *endpoint);
        test_stream server(ioc);
        client_stream.connect(server);
        std::make_shared<http::session>(rpd::testing::make_test_stream(std::move(server)), *ctx)
            ->run();
        settle();
    }
    void settle() {
        ioc.restart();
        for (int i = 0; i < 10000 && ioc.poll() > 0; ++i) {
        }
    }
    // The client's handshake; the response it got.
    websocket::response_type handshake(std::string_view origin = {},
                                       std::string_view host = "daemon.example:8080") {
        if (!origin.empty())
            client.set_option(websocket::stream_base::decorator(
                [o = std::string(origin)](websocket::request_type& req) {
                    req.set(boost::beast::http::field::origin, o);
                }));
        websocket::response_type res;
        handshake_ec = boost::asio::error::would_block;
        client.async_handshake(res, host, "/ws",
                               [this](const error_code& ec) { handshake_ec = ec; });
        settle();
        return res;
    }
    void send(std::string_view text, bool binary = false) {
        client.binary(binary);
        client.async_write(boost::asio::buffer(text), [](const error_code&, std::size_t) {});
        settle();
    }
    // Reads one message (or the close): its text.
    std::string receive() {
        reply.clear();
        read_ec = boost::asio::error::would_block;
        std::string got;
        client.async_read(reply, [&](const error_code& ec, std::size_t) {
            read_ec = ec;
            if (!ec)
                got = boost::beast::buffers_to_string(reply.data());
        });
        settle();
        return got;
    }
    std::uint64_t counted(http::request_result r) const {
        return ctx->metrics.requests[static_cast<std::size_t>(http::request_mode::other)]
                                    [static_cast<std::size_t>(r)];
    }

    boost::asio::io_context ioc;
    rpd::config::settings settings;
    std::shared_ptr<probe> seen = std::make_shared<probe>();
    std::unique_ptr<http::context> ctx;
    std::unique_ptr<rpd::endpoints::ws_endpoint> endpoint;
    test_stream client_stream{ioc};
    websocket::stream<test_stream&> client{client_stream};
    error_code handshake_ec;
    error_code read_ec;
    boost::beast::flat_buffer reply;
};

TEST_F(WebSocket, UpgradeThroughTheEndpointAndEcho) {
    start();
    const auto res = handshake();
    ASSERT_FALSE(handshake_ec) << handshake_ec.message();
    EXPECT_EQ(res.result_int(), 101);
    EXPECT_EQ(res[boost::beast::http::field::server], "redis-push-daemon") << "no library banner";
    EXPECT_EQ(seen->made, 1);
    EXPECT_EQ(ctx->metrics.ws_connections, 1u);
    EXPECT_EQ(ctx->metrics.connections_open, 1u);
    EXPECT_EQ(counted(http::request_result::upgraded), 1u);
    EXPECT_FALSE(ctx->sessions.empty()) << "shutdown reaches the websocket session";

    send(R"({"type":"subscribe","stream":"s"})");
    EXPECT_EQ(receive(), R"({"type":"subscribe","stream":"s"})");
    EXPECT_TRUE(client.got_text());
    const std::string longer(70000 / 2, 'a'); // grows the message buffer past its first reads
    send(longer);
    EXPECT_EQ(receive(), longer);
    EXPECT_EQ(seen->got.size(), 2u);
}

TEST_F(WebSocket, TextAndBinaryMessagesReachTheHandler) {
    start();
    handshake();
    ASSERT_FALSE(handshake_ec);
    send(std::string_view("\x00\x01\xffraw", 6), true);
    send("text");
    send(""); // an empty message is a message
    ASSERT_EQ(seen->got.size(), 3u);
    EXPECT_EQ(seen->got[0], std::string_view("\x00\x01\xffraw", 6));
    EXPECT_EQ(seen->got[1], "text");
    EXPECT_EQ(seen->got[2], "");
}

TEST_F(WebSocket, APlainRequestIs426) {
    start();
    boost::asio::write(client_stream, boost::asio::buffer(
                                          std::string_view("GET /ws HTTP/1.1\r\nHost: d\r\n\r\n")));
    settle();
    const auto out = client_stream.str();
    EXPECT_EQ(out.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u) << out;
    EXPECT_NE(out.find("\r\nUpgrade: websocket\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find(R"({"status":"error","error_message":"Upgrade Required"})"),
              std::string::npos)
        << out;
    EXPECT_EQ(counted(http::request_result::upgrade_required), 1u);
    EXPECT_EQ(seen->made, 0);
}

TEST_F(WebSocket, AForeignOriginIs403) {
    start();
    const auto res = handshake("https://evil.example");
    EXPECT_EQ(handshake_ec, websocket::error::upgrade_declined);
    EXPECT_EQ(res.result_int(), 403);
    EXPECT_EQ(res.body(), R"({"status":"error","error_message":"Forbidden"})");
    EXPECT_EQ(counted(http::request_result::forbidden), 1u);
    EXPECT_EQ(seen->made, 0);
    EXPECT_EQ(ctx->metrics.ws_connections, 0u);
}

TEST_F(WebSocket, TheOwnHostAsOriginIsAccepted) {
    start();
    handshake("http://Daemon.Example:8080");
    EXPECT_FALSE(handshake_ec) << handshake_ec.message();
    EXPECT_EQ(seen->made, 1);
}

TEST_F(WebSocket, AnOriginAllowedByCorsIsAccepted) {
    settings.http.cors_origins = {"https://app.example"};
    start();
    handshake("https://app.example");
    EXPECT_FALSE(handshake_ec) << handshake_ec.message();
    EXPECT_EQ(seen->made, 1);
}

TEST_F(WebSocket, OriginOtherPortIsForbidden) {
    start();
    handshake("http://daemon.example:9999");
    EXPECT_EQ(handshake_ec, websocket::error::upgrade_declined);
    EXPECT_EQ(seen->made, 0);
}

TEST_F(WebSocket, FramesBeforeTheHandshakesAnswerCloseTheConnection) {
    start();
    // A client must wait for the 101 before it sends frames.
    boost::asio::write(client_stream,
                       boost::asio::buffer(std::string_view(
                           "GET /ws HTTP/1.1\r\nHost: d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n\x81\x80"
                           "wxyz")));
    settle();
    EXPECT_EQ(client_stream.str(), "") << "no 101";
    EXPECT_EQ(seen->made, 0);
    EXPECT_EQ(ctx->metrics.connections_open, 0u);
    EXPECT_TRUE(ctx->sessions.empty());
}

TEST(WebSocketOrigin, SchemeLessHostPortComparedWithHost) {
    using rpd::endpoints::origin_is_host;
    EXPECT_TRUE(origin_is_host("http://a.example", "a.example"));
    EXPECT_TRUE(origin_is_host("https://A.example:8443", "a.example:8443"));
    EXPECT_FALSE(origin_is_host("https://a.example:8443", "a.example"));
    EXPECT_FALSE(origin_is_host("https://a.example.evil", "a.example"));
    EXPECT_FALSE(origin_is_host("null", "null"));
    EXPECT_FALSE(origin_is_host("http://a.example", ""));
}

TEST_F(WebSocket, AMessageOverTheLimitClosesWith1009) {
    http::ws_limits limits;
    limits.max_message_bytes = 1024;
    start(limits);
    handshake();
    ASSERT_FALSE(handshake_ec);
    send(std::string(1024, 'a')); // at the limit: fine
    EXPECT_EQ(receive(), std::string(1024, 'a'));
    send(std::string(1025, 'b'));
    receive();
    EXPECT_EQ(read_ec, websocket::error::closed) << read_ec.message();
    EXPECT_EQ(client.reason().code, websocket::close_code::too_big);
    EXPECT_EQ(seen->got.size(), 1u);
    EXPECT_EQ(seen->destroyed, 1);
    EXPECT_EQ(ctx->metrics.ws_connections, 0u);
    EXPECT_EQ(ctx->metrics.connections_open, 0u);
}

TEST_F(WebSocket, TheHandlerIsDestroyedWhenTheClientCloses) {
    start();
    handshake();
    ASSERT_FALSE(handshake_ec);
    EXPECT_EQ(seen->destroyed, 0);
    error_code close_ec = boost::asio::error::would_block;
    client.async_close(websocket::close_code::normal, [&](const error_code& ec) { close_ec = ec; });
    settle();
    EXPECT_FALSE(close_ec) << close_ec.message();
    EXPECT_EQ(seen->destroyed, 1);
    EXPECT_EQ(ctx->metrics.ws_connections, 0u);
    EXPECT_EQ(ctx->metrics.connections_open, 0u);
    EXPECT_TRUE(ctx->sessions.empty());
}

TEST_F(WebSocket, TheHandlerIsDestroyedWhenTheConnectionDrops) {
    start();
    handshake();
    ASSERT_FALSE(handshake_ec);
    client_stream.close();
    settle();
    EXPECT_EQ(seen->destroyed, 1);
    EXPECT_EQ(ctx->metrics.connections_open, 0u);
}

TEST_F(WebSocket, ShutdownClosesWith1001) {
    start();
    handshake();
    ASSERT_FALSE(handshake_ec);
    ASSERT_FALSE(ctx->sessions.empty());
    for (auto it = ctx->sessions.begin(); it != ctx->sessions.end();)
        (it++)->shutdown();
    receive(); // the client answers the close frame
    EXPECT_EQ(read_ec, websocket::error::closed) << read_ec.message();
    EXPECT_EQ(client.reason().code, websocket::close_code::going_away);
    EXPECT_EQ(seen->destroyed, 1);
    EXPECT_TRUE(ctx->sessions.empty());
    EXPECT_EQ(ctx->metrics.connections_open, 0u);
}

TEST_F(WebSocket, AbortClosesTheSocketNow) {
    start();
    handshake();
    ASSERT_FALSE(handshake_ec);
    for (auto it = ctx->sessions.begin(); it != ctx->sessions.end();)
        (it++)->abort();
    receive();
    EXPECT_TRUE(read_ec);
    EXPECT_EQ(client.reason().code, websocket::close_code::none) << "no close frame";
    EXPECT_EQ(seen->destroyed, 1);
    EXPECT_TRUE(ctx->sessions.empty());
}

TEST_F(WebSocket, ABurstOverTheOutputLimitDropsTheClient) {
    http::ws_limits limits;
    limits.max_output_bytes = 16384;
    start(limits);
    handshake();
    ASSERT_FALSE(handshake_ec);
    echo_handler::flood_frames = 8; // 32 KiB in one turn: more than the limit unsent
    send("flood");
    EXPECT_EQ(ctx->metrics.slow_clients_dropped, 1u);
    EXPECT_EQ(seen->destroyed, 1);
    EXPECT_EQ(ctx->metrics.ws_connections, 0u);
}

// Pings: a client that reads (Beast answers pings) stays; one that sends
// nothing, not even a pong, is closed one ping interval after the ping.
TEST_F(WebSocket, APingAfterSilenceAndACloseWithoutPong) {
    http::ws_limits limits;
    limits.ping = 1s;
    start(limits);
    handshake();
    ASSERT_FALSE(handshake_ec);
    // The client reads nothing through Beast, so no pong goes back; its raw
    // bytes show what the server sent.
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until(ioc, [&] { return client_stream.buffer().size() >= 2; }));
    const auto ping_after = std::chrono::steady_clock::now() - t0;
    const auto bytes = boost::beast::buffers_to_string(client_stream.buffer().data());
    EXPECT_EQ(bytes.substr(0, 2), std::string("\x89\x00", 2)) << "an empty ping frame";
    EXPECT_GE(ping_after, 900ms);
    EXPECT_EQ(seen->destroyed, 0);
    ASSERT_TRUE(run_until(ioc, [&] { return seen->destroyed == 1; }));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 1900ms);
    EXPECT_EQ(ctx->metrics.connections_open, 0u);
}

TEST_F(WebSocket, AClientThatAnswersPingsStays) {
    http::ws_limits limits;
    limits.ping = 1s;
    start(limits);
    handshake();
    ASSERT_FALSE(handshake_ec);
    int pings = 0;
    client.control_callback([&](websocket::frame_type kind, boost::beast::string_view) {
        if (kind == websocket::frame_type::ping)
            ++pings;
    });
    read_ec = boost::asio::error::would_block;
    client.async_read(reply, [&](const error_code& ec, std::size_t) { read_ec = ec; });
    ASSERT_TRUE(run_until(
        ioc, [&] { return pings >= 2; }, 10000ms));
    EXPECT_EQ(seen->destroyed, 0);
    EXPECT_EQ(read_ec, boost::asio::error::would_block) << read_ec.message();
}

// A client that stops reading, over real sockets with small buffers: once
// the kernel's buffers are full, what piles up passes the limit.
TEST(WebSocketTcp, AClientThatNeverReadsIsDroppedAndCounted) {
    using boost::asio::ip::tcp;
    boost::asio::io_context ioc;
    rpd::config::settings settings;
    http::context ctx(settings);
    auto seen = std::make_shared<probe>();
    http::ws_limits limits;
    limits.max_output_bytes = 65536;
    rpd::endpoints::ws_endpoint endpoint(
        ctx, [p = seen](http::ws_output& out) { return std::make_unique<echo_handler>(out, p); },
        limits);
    ctx.routes.add_exact("/ws", endpoint);

    tcp::acceptor acceptor(ioc, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
    tcp::socket client_socket(ioc);
    client_socket.open(tcp::v4());
    client_socket.set_option(boost::asio::socket_base::receive_buffer_size(4096));
    acceptor.async_accept([&](const error_code& ec, tcp::socket s) {
        ASSERT_FALSE(ec);
        s.set_option(boost::asio::socket_base::send_buffer_size(4096));
        std::make_shared<http::session>(http::make_tcp_stream(std::move(s)), ctx)->run();
    });
    client_socket.connect(acceptor.local_endpoint());
    websocket::stream<tcp::socket&> client(client_socket);
    error_code handshake_ec = boost::asio::error::would_block;
    client.async_handshake("localhost", "/ws", [&](const error_code& ec) { handshake_ec = ec; });
    ASSERT_TRUE(run_until(ioc, [&] { return handshake_ec != boost::asio::error::would_block; }));
    ASSERT_FALSE(handshake_ec) << handshake_ec.message();

    // Each "flood" is 32 KiB back, under the limit by itself; the client
    // keeps asking and never reads.
    echo_handler::flood_frames = 8;
    echo_handler::flood_bytes = 4096;
    int sent = 0;
    std::function<void()> ask = [&] {
        client.async_write(boost::asio::buffer(std::string_view("flood")),
                           [&](const error_code& ec, std::size_t) {
                               if (!ec && seen->destroyed == 0 && ++sent < 10000)
                                   ask();
                           });
    };
    ask();
    ASSERT_TRUE(run_until(
        ioc, [&] { return seen->destroyed == 1; }, 10000ms));
    EXPECT_EQ(ctx.metrics.slow_clients_dropped, 1u);
    EXPECT_GT(sent, 1) << "a single flood is within the limit";
    EXPECT_EQ(ctx.metrics.ws_connections, 0u);
    EXPECT_EQ(ctx.metrics.connections_open, 0u);
    EXPECT_TRUE(ctx.sessions.empty());
}

} // namespace
