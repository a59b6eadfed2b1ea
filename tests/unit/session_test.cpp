// Unit tests of http::session driven through beast::test::stream, with the
// Redis connections never started, so Redis is "down" throughout (spec
// sections 2, 3, 5 and 6).

#include "redis_push/http/session.hpp"

#include "redis_push/app/endpoints.hpp"
#include "test_byte_stream.hpp"

#include "redis_push/mailboxes/mailbox_service.hpp"
#include "redis_push/queues/queue_service.hpp"
#include "redis_push/redis/command_connection.hpp"
#include "redis_push/redis/subscriber_pool.hpp"
#include "redis_push/streams/history_service.hpp"
#include "redis_push/streams/stream_service.hpp"
#include "redis_push/tasks/task_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace {

namespace beast = boost::beast;
namespace http = rpd::http;
using test_stream = beast::test::stream;
using test_session = http::session;
using http::request_mode;
using http::request_result;

// "HTTP/1.1 <status>" + the fixed JSON headers, `mid` (headers that go
// before the length), Content-Length, `tail` (Connection), blank line and
// the body unless `with_body` is false (HEAD).
std::string json_response(std::string_view status, std::string_view body, std::string_view mid = "",
                          std::string_view tail = "", bool with_body = true) {
    std::string r = "HTTP/1.1 ";
    r.append(status).append("\r\n");
    r.append("Content-Type: application/json\r\n");
    r.append("Cache-Control: no-store\r\n");
    r.append(mid);
    r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    r.append(tail);
    r.append("\r\n");
    if (with_body)
        r.append(body);
    return r;
}

std::string error_json(std::string_view text) {
    return R"({"status":"error","error_message":")" + std::string(text) + R"("})";
}

constexpr std::string_view allow = "Allow: GET, HEAD, OPTIONS\r\n";
constexpr std::string_view x_accel = "X-Accel-Buffering: no\r\n";
constexpr std::string_view close_header = "Connection: close\r\n";

class Session : public ::testing::Test {
protected:
    void TearDown() override {
        if (auto s = session_.lock())
            s->abort();
        settle();
        EXPECT_TRUE(session_.expired());
        endpoints_.reset();
        ctx_.reset();
    }

    // Builds the context from `settings` and starts one session.
    void start() {
        if (!ctx_)
            make_context();
        test_stream server(ioc);
        if (write_size > 0)
            server.write_size(write_size);
        client.connect(server);
        auto s = std::make_shared<test_session>(rpd::testing::make_test_stream(std::move(server)),
                                                *ctx_);
        session_ = s;
        s->run();
        settle();
    }

    // The context and the daemon's own endpoint wiring over it.
    void make_context() {
        ctx_ = std::make_unique<http::context>(settings);
        endpoints_ = std::make_unique<rpd::app::endpoint_set>(
            settings, rpd::app::mode_services{tasks, streams, queues, mailboxes, history},
            [this] { return redis_up; }, [] { return metrics_text(); }, *ctx_);
    }

    static std::string metrics_text() {
        return "# HELP redis_push_connections_open Open client connections.\n"
               "# TYPE redis_push_connections_open gauge\n"
               "redis_push_connections_open 1\n";
    }

    // Runs every handler that is ready, until nothing more is (the only
    // timers are the 30 s / 60 s request and idle timeouts).
    void settle() {
        ioc.restart();
        for (int i = 0; i < 10000 && ioc.poll() > 0; ++i) {
        }
    }

    void send(std::string_view bytes) {
        boost::asio::write(client, boost::asio::buffer(bytes.data(), bytes.size()));
        settle();
    }

    // What the session wrote so far, consumed.
    std::string take() {
        std::string s(client.str());
        client.clear();
        return s;
    }

    std::string exchange(std::string_view request) {
        send(request);
        return take();
    }

    bool session_alive() const { return !session_.expired(); }

    // True when the session has closed its end: the client reads EOF. Call
    // after take(), with nothing left unread.
    bool client_sees_eof() {
        struct result {
            bool done = false;
            boost::system::error_code ec;
        };
        auto r = std::make_shared<result>();
        client.async_read_some(boost::asio::buffer(eof_probe_),
                               [r](const boost::system::error_code& ec, std::size_t) {
                                   r->done = true;
                                   r->ec = ec;
                               });
        settle();
        return r->done && r->ec == boost::asio::error::eof;
    }

    void expect_closed() {
        EXPECT_FALSE(session_alive());
        EXPECT_EQ(ctx_->metrics.connections_open, 0u);
        EXPECT_TRUE(ctx_->sessions.empty());
        EXPECT_TRUE(client_sees_eof());
    }

    void expect_open() {
        EXPECT_TRUE(session_alive());
        EXPECT_EQ(ctx_->metrics.connections_open, 1u);
        EXPECT_FALSE(ctx_->sessions.empty());
    }

    std::uint64_t count(request_mode m, request_result r) const {
        return ctx_->metrics.requests[static_cast<std::size_t>(m)][static_cast<std::size_t>(r)];
    }

    boost::asio::io_context ioc;
    rpd::config::settings settings;
    std::size_t write_size = 0; // bytes per write_some of the session; 0 = no limit
    rpd::redis::command_connection commands{ioc, rpd::redis::endpoint{}};
    rpd::redis::subscriber_pool subscribers{ioc, rpd::redis::endpoint{}, 2, "RA_probe"};
    rpd::tasks::task_service tasks{ioc, commands, subscribers, rpd::tasks::task_settings{}};
    rpd::streams::stream_service streams{ioc, commands, subscribers, {}};
    rpd::queues::queue_service queues{ioc, commands, subscribers, {}};
    rpd::mailboxes::mailbox_service mailboxes{ioc, commands, subscribers, {}, {}};
    rpd::streams::history_service history{ioc, commands, {}};
    bool redis_up = false;
    std::unique_ptr<http::context> ctx_;
    std::unique_ptr<rpd::app::endpoint_set> endpoints_;
    test_stream client{ioc};
    std::weak_ptr<test_session> session_;
    char eof_probe_[64];
};

// ---- lifetime ----------------------------------------------------------------------------

TEST_F(Session, JoinsTheContext) {
    start();
    expect_open();
    EXPECT_EQ(take(), "");
}

TEST_F(Session, ClientClosingEndsTheSession) {
    start();
    expect_open();
    client.close();
    settle();
    EXPECT_FALSE(session_alive());
    EXPECT_EQ(ctx_->metrics.connections_open, 0u);
    EXPECT_TRUE(ctx_->sessions.empty());
}

TEST_F(Session, ClientClosingAfterARequestEndsTheSession) {
    start();
    exchange("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_open();
    client.close();
    settle();
    EXPECT_FALSE(session_alive());
    EXPECT_EQ(ctx_->metrics.connections_open, 0u);
    EXPECT_TRUE(ctx_->sessions.empty());
}

TEST_F(Session, ClientClosingHalfWayThroughAHead) {
    start();
    send("GET /task/abc HTTP/1.1\r\nHo");
    EXPECT_EQ(take(), "");
    client.close();
    settle();
    EXPECT_FALSE(session_alive());
    EXPECT_EQ(ctx_->metrics.connections_open, 0u);
}

TEST_F(Session, RequestWrittenBeforeRunIsAnswered) {
    make_context();
    test_stream server(ioc);
    client.connect(server);
    boost::asio::write(client, boost::asio::buffer(std::string_view("GET /nope HTTP/1.1\r\n\r\n")));
    auto s =
        std::make_shared<test_session>(rpd::testing::make_test_stream(std::move(server)), *ctx_);
    session_ = s;
    settle();
    EXPECT_EQ(take(), ""); // not reading before run()
    s->run();
    s.reset();
    settle();
    EXPECT_EQ(take(), json_response("404 Not Found", error_json("Not Found")));
}

TEST_F(Session, ShutdownClosesAnIdleSession) {
    start();
    ctx_->shutting_down = true;
    ASSERT_FALSE(ctx_->sessions.empty());
    ctx_->sessions.front().shutdown();
    settle();
    expect_closed();
}

// ---- routing errors ------------------------------------------------------------------------

TEST_F(Session, UnknownPath404) {
    start();
    EXPECT_EQ(exchange("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"),
              "HTTP/1.1 404 Not Found\r\n"
              "Content-Type: application/json\r\n"
              "Cache-Control: no-store\r\n"
              "Content-Length: 46\r\n"
              "\r\n"
              R"({"status":"error","error_message":"Not Found"})");
    expect_open();
    EXPECT_EQ(count(request_mode::other, request_result::unknown_path), 1u);
}

TEST_F(Session, TaskAlone404) {
    start();
    EXPECT_EQ(exchange("GET /task HTTP/1.1\r\n\r\n"),
              json_response("404 Not Found", error_json("Not Found")));
}

TEST_F(Session, InvalidTaskId400) {
    start();
    EXPECT_EQ(exchange("GET /task/a.b HTTP/1.1\r\nHost: x\r\n\r\n"),
              "HTTP/1.1 400 Bad Request\r\n"
              "Content-Type: application/json\r\n"
              "Cache-Control: no-store\r\n"
              "Content-Length: 52\r\n"
              "\r\n"
              R"({"status":"error","error_message":"Invalid task id"})");
    expect_open();
    EXPECT_EQ(count(request_mode::poll, request_result::invalid_task_id), 1u);
}

TEST_F(Session, InvalidTaskIdVariants) {
    start();
    for (const char* target : {"/task/", "/task/a/b", "/task/a/", "/task/%41", "/task/..",
                               "/task/abcdefghijklmnopqrstuvwxyz0123456"}) {
        EXPECT_EQ(exchange(std::string("GET ") + target + " HTTP/1.1\r\n\r\n"),
                  json_response("400 Bad Request", error_json("Invalid task id")))
            << target;
    }
    expect_open();
}

TEST_F(Session, InvalidMode400) {
    start();
    for (const char* query : {"?foo", "?watch=1", "?watch&watch", "?poll=true"}) {
        EXPECT_EQ(exchange(std::string("GET /task/abc") + query + " HTTP/1.1\r\n\r\n"),
                  json_response("400 Bad Request", error_json("Invalid mode")))
            << query;
    }
    EXPECT_EQ(count(request_mode::poll, request_result::invalid_mode), 4u);
}

TEST_F(Session, MethodNotAllowed405WithAllow) {
    start();
    EXPECT_EQ(exchange("DELETE /task/abc HTTP/1.1\r\n\r\n"),
              "HTTP/1.1 405 Method Not Allowed\r\n"
              "Content-Type: application/json\r\n"
              "Cache-Control: no-store\r\n"
              "Allow: GET, HEAD, OPTIONS\r\n"
              "Content-Length: 55\r\n"
              "\r\n"
              R"({"status":"error","error_message":"Method Not Allowed"})");
    expect_open();
    EXPECT_EQ(count(request_mode::other, request_result::method_not_allowed), 1u);
}

TEST_F(Session, MethodNotAllowedOnOperationsEndpoints) {
    start();
    EXPECT_EQ(exchange("PUT /healthz HTTP/1.1\r\n\r\n"),
              json_response("405 Method Not Allowed", error_json("Method Not Allowed"), allow));
    EXPECT_EQ(exchange("OPTIONS /metrics HTTP/1.1\r\n\r\n"),
              json_response("405 Method Not Allowed", error_json("Method Not Allowed"), allow));
}

TEST_F(Session, MethodCheckedBeforeId) {
    start();
    EXPECT_EQ(exchange("PATCH /task/a.b?foo HTTP/1.1\r\n\r\n"),
              json_response("405 Method Not Allowed", error_json("Method Not Allowed"), allow));
}

// ---- Redis down ----------------------------------------------------------------------------

TEST_F(Session, PollAnswers503WhileRedisIsDown) {
    start();
    EXPECT_EQ(exchange("GET /task/abc HTTP/1.1\r\nHost: x\r\n\r\n"),
              "HTTP/1.1 503 Service Unavailable\r\n"
              "Content-Type: application/json\r\n"
              "Cache-Control: no-store\r\n"
              "Content-Length: 54\r\n"
              "\r\n"
              R"({"status":"error","error_message":"Redis unavailable"})");
    expect_open();
    EXPECT_EQ(count(request_mode::poll, request_result::unavailable), 1u);
}

TEST_F(Session, ExplicitPollAndEmptyQueryAnswer503) {
    start();
    EXPECT_EQ(exchange("GET /task/abc?poll HTTP/1.1\r\n\r\n"),
              json_response("503 Service Unavailable", error_json("Redis unavailable")));
    EXPECT_EQ(exchange("GET /task/abc? HTTP/1.1\r\n\r\n"),
              json_response("503 Service Unavailable", error_json("Redis unavailable")));
}

TEST_F(Session, HeadPollHasNoBody) {
    start();
    EXPECT_EQ(
        exchange("HEAD /task/abc HTTP/1.1\r\n\r\n"),
        json_response("503 Service Unavailable", error_json("Redis unavailable"), "", "", false));
    EXPECT_EQ(count(request_mode::head, request_result::unavailable), 1u);
    // HEAD never waits: ?watch is a poll too.
    EXPECT_EQ(
        exchange("HEAD /task/abc?watch HTTP/1.1\r\n\r\n"),
        json_response("503 Service Unavailable", error_json("Redis unavailable"), "", "", false));
    EXPECT_EQ(count(request_mode::head, request_result::unavailable), 2u);
    EXPECT_EQ(count(request_mode::watch, request_result::unavailable), 0u);
    expect_open();
}

TEST_F(Session, WatchAnswers503WhileRedisIsDown) {
    start();
    EXPECT_EQ(exchange("GET /task/abc?watch HTTP/1.1\r\nHost: x\r\n\r\n"),
              "HTTP/1.1 503 Service Unavailable\r\n"
              "Content-Type: application/json\r\n"
              "Cache-Control: no-store\r\n"
              "X-Accel-Buffering: no\r\n"
              "Content-Length: 54\r\n"
              "\r\n"
              R"({"status":"error","error_message":"Redis unavailable"})");
    EXPECT_EQ(count(request_mode::watch, request_result::unavailable), 1u);
    EXPECT_EQ(tasks.active_watches(), 0u);
    expect_open();
    // The connection still works.
    EXPECT_EQ(exchange("GET /nope HTTP/1.1\r\n\r\n"),
              json_response("404 Not Found", error_json("Not Found")));
}

TEST_F(Session, WatchDuringShutdownAnswersShuttingDown) {
    start();
    tasks.shutdown();
    const std::string got = exchange("GET /task/abc?watch HTTP/1.1\r\n\r\n");
    EXPECT_EQ(
        got, json_response("503 Service Unavailable", error_json("Server shutting down"), x_accel));
}

// ---- operations endpoints --------------------------------------------------------------------

TEST_F(Session, HealthzDown) {
    start();
    EXPECT_EQ(exchange("GET /healthz HTTP/1.1\r\n\r\n"), "HTTP/1.1 503 Service Unavailable\r\n"
                                                         "Content-Type: application/json\r\n"
                                                         "Cache-Control: no-store\r\n"
                                                         "Content-Length: 16\r\n"
                                                         "\r\n"
                                                         R"({"redis":"down"})");
    expect_open();
}

TEST_F(Session, HealthzUp) {
    redis_up = true;
    start();
    EXPECT_EQ(exchange("GET /healthz HTTP/1.1\r\n\r\n"),
              json_response("200 OK", R"({"redis":"up"})"));
    EXPECT_EQ(exchange("HEAD /healthz HTTP/1.1\r\n\r\n"),
              json_response("200 OK", R"({"redis":"up"})", "", "", false));
    EXPECT_EQ(count(request_mode::operations, request_result::ok), 2u);
}

TEST_F(Session, Metrics) {
    start();
    const std::string body = metrics_text();
    EXPECT_EQ(exchange("GET /metrics HTTP/1.1\r\n\r\n"),
              "HTTP/1.1 200 OK\r\n"
              "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
              "Cache-Control: no-store\r\n"
              "Content-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body);
    expect_open();
}

// ---- CORS --------------------------------------------------------------------------------------

TEST_F(Session, PreflightFromAMatchingOrigin) {
    settings.http.cors_origins = {"https://app.example"};
    start();
    EXPECT_EQ(exchange("OPTIONS /task/abc?watch HTTP/1.1\r\n"
                       "Origin: https://app.example\r\n"
                       "Access-Control-Request-Method: GET\r\n"
                       "Access-Control-Request-Headers: X-Requested-With\r\n"
                       "\r\n"),
              "HTTP/1.1 204 No Content\r\n"
              "Cache-Control: no-store\r\n"
              "Allow: GET, HEAD, OPTIONS\r\n"
              "Access-Control-Allow-Origin: https://app.example\r\n"
              "Vary: Origin\r\n"
              "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
              "Access-Control-Max-Age: 86400\r\n"
              "Access-Control-Allow-Headers: X-Requested-With\r\n"
              "\r\n");
    expect_open();
    EXPECT_EQ(count(request_mode::options, request_result::ok), 1u);
}

TEST_F(Session, PreflightWithoutRequestHeaders) {
    settings.http.cors_origins = {"https://app.example"};
    start();
    EXPECT_EQ(exchange("OPTIONS /task/abc HTTP/1.1\r\nOrigin: https://app.example\r\n\r\n"),
              "HTTP/1.1 204 No Content\r\n"
              "Cache-Control: no-store\r\n"
              "Allow: GET, HEAD, OPTIONS\r\n"
              "Access-Control-Allow-Origin: https://app.example\r\n"
              "Vary: Origin\r\n"
              "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
              "Access-Control-Max-Age: 86400\r\n"
              "\r\n");
}

TEST_F(Session, PreflightFromAnUnmatchedOrigin) {
    settings.http.cors_origins = {"https://app.example"};
    start();
    const std::string bare = "HTTP/1.1 204 No Content\r\n"
                             "Cache-Control: no-store\r\n"
                             "Allow: GET, HEAD, OPTIONS\r\n"
                             "\r\n";
    EXPECT_EQ(exchange("OPTIONS /task/abc HTTP/1.1\r\n"
                       "Origin: https://evil.example\r\n"
                       "Access-Control-Request-Headers: X-Requested-With\r\n"
                       "\r\n"),
              bare);
    // Exact match only.
    EXPECT_EQ(exchange("OPTIONS /task/abc HTTP/1.1\r\nOrigin: https://app.example/\r\n\r\n"), bare);
    EXPECT_EQ(exchange("OPTIONS /task/abc HTTP/1.1\r\nOrigin: HTTPS://APP.EXAMPLE\r\n\r\n"), bare);
    // No Origin at all.
    EXPECT_EQ(exchange("OPTIONS /task/abc HTTP/1.1\r\n\r\n"), bare);
}

TEST_F(Session, PreflightWithCorsDisabled) {
    start();
    EXPECT_EQ(exchange("OPTIONS /task/abc HTTP/1.1\r\nOrigin: https://app.example\r\n\r\n"),
              "HTTP/1.1 204 No Content\r\n"
              "Cache-Control: no-store\r\n"
              "Allow: GET, HEAD, OPTIONS\r\n"
              "\r\n");
}

TEST_F(Session, WildcardEchoesTheOrigin) {
    settings.http.cors_origins = {"*"};
    start();
    EXPECT_EQ(exchange("GET /task/abc HTTP/1.1\r\nOrigin: http://localhost:3000\r\n\r\n"),
              json_response("503 Service Unavailable", error_json("Redis unavailable"),
                            "Access-Control-Allow-Origin: http://localhost:3000\r\n"
                            "Vary: Origin\r\n"));
}

TEST_F(Session, CorsHeadersOnErrors) {
    settings.http.cors_origins = {"https://a.example", "https://app.example"};
    start();
    const std::string cors = "Access-Control-Allow-Origin: https://app.example\r\n"
                             "Vary: Origin\r\n";
    EXPECT_EQ(exchange("GET /nope HTTP/1.1\r\nOrigin: https://app.example\r\n\r\n"),
              json_response("404 Not Found", error_json("Not Found"), cors));
    EXPECT_EQ(exchange("GET /task/a.b HTTP/1.1\r\nOrigin: https://app.example\r\n\r\n"),
              json_response("400 Bad Request", error_json("Invalid task id"), cors));
    EXPECT_EQ(exchange("POST /task/abc HTTP/1.1\r\nOrigin: https://app.example\r\n\r\n"),
              json_response("405 Method Not Allowed", error_json("Method Not Allowed"),
                            std::string(allow) + cors));
    EXPECT_EQ(exchange("GET /task/abc?watch HTTP/1.1\r\nOrigin: https://app.example\r\n\r\n"),
              json_response("503 Service Unavailable", error_json("Redis unavailable"),
                            std::string(x_accel) + cors));
    EXPECT_EQ(exchange("GET /healthz HTTP/1.1\r\nOrigin: https://app.example\r\n\r\n"),
              json_response("503 Service Unavailable", R"({"redis":"down"})", cors));
    // The next request without an Origin gets none.
    EXPECT_EQ(exchange("GET /nope HTTP/1.1\r\n\r\n"),
              json_response("404 Not Found", error_json("Not Found")));
}

// ---- http.always_200 ---------------------------------------------------------------------------

TEST_F(Session, Always200OnTaskRequests) {
    settings.http.always_200 = true;
    start();
    EXPECT_EQ(exchange("GET /task/a.b HTTP/1.1\r\n\r\n"),
              json_response("200 OK", error_json("Invalid task id")));
    EXPECT_EQ(exchange("GET /task/abc?foo HTTP/1.1\r\n\r\n"),
              json_response("200 OK", error_json("Invalid mode")));
    EXPECT_EQ(exchange("DELETE /task/abc HTTP/1.1\r\n\r\n"),
              json_response("200 OK", error_json("Method Not Allowed"), allow));
    EXPECT_EQ(exchange("GET /task/abc HTTP/1.1\r\n\r\n"),
              json_response("200 OK", error_json("Redis unavailable")));
    EXPECT_EQ(exchange("GET /task/abc?watch HTTP/1.1\r\n\r\n"),
              json_response("200 OK", error_json("Redis unavailable"), x_accel));
    EXPECT_EQ(exchange("HEAD /task/abc HTTP/1.1\r\n\r\n"),
              json_response("200 OK", error_json("Redis unavailable"), "", "", false));
    expect_open();
    // The metrics keep the real outcomes.
    EXPECT_EQ(count(request_mode::poll, request_result::unavailable), 1u);
    EXPECT_EQ(count(request_mode::watch, request_result::unavailable), 1u);
}

TEST_F(Session, Always200LeavesOtherPathsAndHealthzAlone) {
    settings.http.always_200 = true;
    start();
    EXPECT_EQ(exchange("GET /nope HTTP/1.1\r\n\r\n"),
              json_response("404 Not Found", error_json("Not Found")));
    EXPECT_EQ(exchange("GET /healthz HTTP/1.1\r\n\r\n"),
              json_response("503 Service Unavailable", R"({"redis":"down"})"));
    EXPECT_EQ(exchange("POST /metrics HTTP/1.1\r\n\r\n"),
              json_response("405 Method Not Allowed", error_json("Method Not Allowed"), allow));
}

// ---- connection handling
// -------------------------------------------------------------------------

TEST_F(Session, PipelinedRequestsAnsweredInOrder) {
    start();
    EXPECT_EQ(
        exchange("GET /nope HTTP/1.1\r\n\r\n"
                 "GET /task/abc HTTP/1.1\r\n\r\n" // answered asynchronously
                 "GET /task/a.b HTTP/1.1\r\n\r\n"
                 "GET /task/abc?watch HTTP/1.1\r\n\r\n" // asynchronously too
                 "HEAD /task/abc HTTP/1.1\r\n\r\n"
                 "GET /healthz HTTP/1.1\r\n\r\n"),
        json_response("404 Not Found", error_json("Not Found")) +
            json_response("503 Service Unavailable", error_json("Redis unavailable")) +
            json_response("400 Bad Request", error_json("Invalid task id")) +
            json_response("503 Service Unavailable", error_json("Redis unavailable"), x_accel) +
            json_response("503 Service Unavailable", error_json("Redis unavailable"), "", "",
                          false) +
            json_response("503 Service Unavailable", R"({"redis":"down"})"));
    expect_open();
}

// Partial writes are how a slow reader shows; one that keeps reading must
// still get everything, in order, and not be taken for a stalled client.
TEST_F(Session, PartialWritesStillDeliverEverythingInOrder) {
    write_size = 7;
    start();
    EXPECT_EQ(exchange("GET /nope HTTP/1.1\r\n\r\n"
                       "GET /task/abc HTTP/1.1\r\n\r\n"
                       "GET /healthz HTTP/1.1\r\n\r\n"),
              json_response("404 Not Found", error_json("Not Found")) +
                  json_response("503 Service Unavailable", error_json("Redis unavailable")) +
                  json_response("503 Service Unavailable", R"({"redis":"down"})"));
    EXPECT_EQ(ctx_->metrics.slow_clients_dropped, 0u);
    expect_open();
}

TEST_F(Session, ManyRequestsOnOneConnection) {
    start();
    for (int i = 0; i < 50; ++i)
        ASSERT_EQ(exchange("GET /task/t" + std::to_string(i) + " HTTP/1.1\r\n\r\n"),
                  json_response("503 Service Unavailable", error_json("Redis unavailable")))
            << i;
    EXPECT_EQ(count(request_mode::poll, request_result::unavailable), 50u);
    expect_open();
}

TEST_F(Session, HeadArrivingByteByByte) {
    start();
    const std::string request = "GET /task/a.b HTTP/1.1\r\nHost: example\r\n\r\n";
    for (char c : request) {
        EXPECT_EQ(take(), "");
        send(std::string(1, c));
    }
    EXPECT_EQ(take(), json_response("400 Bad Request", error_json("Invalid task id")));
    expect_open();
}

TEST_F(Session, Http10ClosesAfterTheAnswer) {
    start();
    EXPECT_EQ(exchange("GET /task/a.b HTTP/1.0\r\n\r\n"),
              json_response("400 Bad Request", error_json("Invalid task id"), "", close_header));
    expect_closed();
}

TEST_F(Session, Http10PollCloses) {
    start();
    EXPECT_EQ(exchange("GET /task/abc HTTP/1.0\r\n\r\n"),
              json_response("503 Service Unavailable", error_json("Redis unavailable"), "",
                            close_header));
    expect_closed();
}

TEST_F(Session, Http10KeepAlive) {
    start();
    EXPECT_EQ(
        exchange("GET /nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
        json_response("404 Not Found", error_json("Not Found"), "", "Connection: keep-alive\r\n"));
    expect_open();
    EXPECT_EQ(exchange("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
              json_response("503 Service Unavailable", R"({"redis":"down"})", "",
                            "Connection: keep-alive\r\n"));
    EXPECT_EQ(exchange("GET /nope HTTP/1.0\r\n\r\n"),
              json_response("404 Not Found", error_json("Not Found"), "", close_header));
    expect_closed();
}

TEST_F(Session, Http11ConnectionClose) {
    start();
    EXPECT_EQ(exchange("GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n"),
              json_response("404 Not Found", error_json("Not Found"), "", close_header));
    expect_closed();
}

TEST_F(Session, NothingAfterConnectionCloseIsAnswered) {
    start();
    EXPECT_EQ(exchange("GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n"
                       "GET /healthz HTTP/1.1\r\n\r\n"),
              json_response("404 Not Found", error_json("Not Found"), "", close_header));
    expect_closed();
}

TEST_F(Session, OversizedHead431AndClose) {
    start();
    const std::string request =
        "GET /task/abc HTTP/1.1\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n";
    EXPECT_EQ(exchange(request), json_response("431 Request Header Fields Too Large",
                                               error_json("Request too large"), "", close_header));
    expect_closed();
    EXPECT_EQ(count(request_mode::other, request_result::too_large), 1u);
}

TEST_F(Session, OversizedHeadWithTheSmallestLimit) {
    settings.http.max_header_bytes = 1024;
    start();
    // Just under the limit passes...
    const std::string ok = "GET /nope HTTP/1.1\r\nX-Pad: " + std::string(900, 'p') + "\r\n\r\n";
    EXPECT_EQ(exchange(ok), json_response("404 Not Found", error_json("Not Found")));
    // ...over it does not.
    const std::string big = "GET /nope HTTP/1.1\r\nX-Pad: " + std::string(1100, 'p') + "\r\n\r\n";
    EXPECT_EQ(exchange(big), json_response("431 Request Header Fields Too Large",
                                           error_json("Request too large"), "", close_header));
    expect_closed();
}

TEST_F(Session, OversizedHeadWithoutItsEnd) {
    // The client never finishes the head: the limit still stops the read.
    start();
    EXPECT_EQ(exchange("GET /nope HTTP/1.1\r\nX-Big: " + std::string(20000, 'b')),
              json_response("431 Request Header Fields Too Large", error_json("Request too large"),
                            "", close_header));
    expect_closed();
}

TEST_F(Session, GarbageRequestLine400AndClose) {
    start();
    EXPECT_EQ(exchange("HELLO\r\n\r\n"),
              json_response("400 Bad Request", error_json("Bad Request"), "", close_header));
    expect_closed();
    EXPECT_EQ(count(request_mode::other, request_result::bad_request), 1u);
}

TEST_F(Session, GarbageAfterAGoodRequest) {
    start();
    EXPECT_EQ(exchange("GET /nope HTTP/1.1\r\n\r\n\x01\x02\x03 garbage\r\n\r\n"),
              json_response("404 Not Found", error_json("Not Found")) +
                  json_response("400 Bad Request", error_json("Bad Request"), "", close_header));
    expect_closed();
}

TEST_F(Session, BadHttpVersion400AndClose) {
    start();
    EXPECT_EQ(exchange("GET /nope HTTP/9.x\r\n\r\n"),
              json_response("400 Bad Request", error_json("Bad Request"), "", close_header));
    expect_closed();
}

TEST_F(Session, ErrorAfterAHeadRequestHasABody) {
    // The 400 that answers a broken request is a full response, whatever
    // the request before it was.
    start();
    EXPECT_EQ(exchange("HEAD /nope HTTP/1.1\r\n\r\nBROKEN\r\n\r\n"),
              json_response("404 Not Found", error_json("Not Found"), "", "", false) +
                  json_response("400 Bad Request", error_json("Bad Request"), "", close_header));
    expect_closed();
}

TEST_F(Session, TooLargeAfterAHeadRequestHasABody) {
    start();
    EXPECT_EQ(exchange("HEAD /healthz HTTP/1.1\r\n\r\n"),
              json_response("503 Service Unavailable", R"({"redis":"down"})", "", "", false));
    EXPECT_EQ(exchange("GET /nope HTTP/1.1\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n"),
              json_response("431 Request Header Fields Too Large", error_json("Request too large"),
                            "", close_header));
    expect_closed();
}

TEST_F(Session, ErrorAfterACorsRequestHasNoCorsHeaders) {
    // The broken request carried no (parsable) Origin.
    settings.http.cors_origins = {"https://app.example"};
    start();
    EXPECT_EQ(exchange("GET /nope HTTP/1.1\r\nOrigin: https://app.example\r\n\r\nBROKEN\r\n\r\n"),
              json_response("404 Not Found", error_json("Not Found"),
                            "Access-Control-Allow-Origin: https://app.example\r\n"
                            "Vary: Origin\r\n") +
                  json_response("400 Bad Request", error_json("Bad Request"), "", close_header));
    expect_closed();
}

TEST_F(Session, RequestWithABodyIsAnsweredThenClosed) {
    start();
    EXPECT_EQ(exchange("PUT /task/abc HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"),
              json_response("405 Method Not Allowed", error_json("Method Not Allowed"), allow,
                            close_header));
    expect_closed();
}

// RFC 9112 6.3: the body's end is unknowable, so no request after it may be
// answered (a front proxy could frame it differently: request smuggling).
TEST_F(Session, TransferEncodingNotEndingInChunkedIs400AndClose) {
    start();
    EXPECT_EQ(exchange("GET /task/abc HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"
                       "GET /task/smuggled HTTP/1.1\r\n\r\n"),
              json_response("400 Bad Request", error_json("Bad Request"), "", close_header));
    expect_closed();
}

TEST_F(Session, GetWithABodyIsAnsweredThenClosed) {
    start();
    EXPECT_EQ(exchange("GET /task/abc HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"),
              json_response("503 Service Unavailable", error_json("Redis unavailable"), "",
                            close_header));
    expect_closed();
}

TEST_F(Session, ChunkedBodyIsAnsweredThenClosed) {
    start();
    EXPECT_EQ(
        exchange("PUT /nope HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        json_response("404 Not Found", error_json("Not Found"), "", close_header));
    expect_closed();
}

// A POST's body is what a publish carries: read whole, the connection goes on.
TEST_F(Session, PostBodyKeepsTheConnection) {
    start();
    EXPECT_EQ(exchange("POST /task/abc HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"),
              json_response("405 Method Not Allowed", error_json("Method Not Allowed"), allow));
    expect_open();
}

TEST_F(Session, EmptyBodyKeepsTheConnection) {
    start();
    EXPECT_EQ(exchange("POST /task/abc HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
              json_response("405 Method Not Allowed", error_json("Method Not Allowed"), allow));
    expect_open();
}

TEST_F(Session, ClientLeavingBeforeTheAnswerIsWritten) {
    start();
    // The poll's answer is posted; the client is gone before it runs.
    boost::asio::write(client,
                       boost::asio::buffer(std::string_view("GET /task/abc HTTP/1.1\r\n\r\n")));
    client.close();
    settle();
    EXPECT_FALSE(session_alive());
    EXPECT_EQ(ctx_->metrics.connections_open, 0u);
    EXPECT_TRUE(ctx_->sessions.empty());
}

TEST_F(Session, TwoSessionsAreCounted) {
    start();
    test_stream client2(ioc);
    {
        test_stream server2(ioc);
        client2.connect(server2);
        std::make_shared<test_session>(rpd::testing::make_test_stream(std::move(server2)), *ctx_)
            ->run();
    }
    settle();
    EXPECT_EQ(ctx_->metrics.connections_open, 2u);
    boost::asio::write(client2,
                       boost::asio::buffer(std::string_view("GET /nope HTTP/1.1\r\n\r\n")));
    settle();
    EXPECT_EQ(std::string(client2.str()), json_response("404 Not Found", error_json("Not Found")));
    EXPECT_EQ(take(), ""); // nothing for the first client
    client2.close();
    settle();
    EXPECT_EQ(ctx_->metrics.connections_open, 1u);
    expect_open();
}

} // namespace
