#pragma once

#include "redis_push/http/context.hpp"
#include "redis_push/http/response.hpp"
#include "redis_push/tasks/watch.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rpd::http {

// One client connection: a keep-alive loop of request -> response, where a
// watch response may be held open for a long time.
//
// Lifetime: every pending operation holds a shared_ptr to the session, so
// it lives exactly as long as something can still happen to it. It owns
// its watch; close() abandons the watch, which frees the subscription
// share at once. While a request is being answered a read stays pending
// (the "probe"), so a client that leaves is noticed immediately.
//
// A template over the stream so the unit tests can drive it through
// beast::test::stream; the daemon uses tcp::socket (session.cpp).
template <class Stream>
class session final : public session_base,
                      public tasks::watch_observer,
                      public std::enable_shared_from_this<session<Stream>> {
public:
    session(Stream&& stream, context& ctx);
    ~session();

    void run();
    void shutdown() override;
    void abort() override { close(); }

private:
    enum class state : std::uint8_t {
        reading,  // waiting for (more of) a request head
        handling, // a poll or an unestablished watch is in flight
        holding,  // watch established: head sent, keepalives running
        closed
    };

    void read_request();
    void on_bytes(const boost::system::error_code& ec, std::size_t n);
    void read_head();
    void on_head(const boost::system::error_code& ec);
    void dispatch(method m, std::string_view target);
    void start_probe(std::size_t chunk);
    void on_poll_result(tasks::outcome result, std::string_view value);

    void on_watch_established() override;
    void on_watch_finished(tasks::outcome result, std::string_view value) override;

    void respond(unsigned status, std::string_view body, request_result result,
                 std::string_view content_type = "application/json");
    void respond_error(unsigned status, std::string_view text, request_result result);
    response_head make_head(unsigned status) const;
    void flush();
    void write_some();
    void on_write_some(const boost::system::error_code& ec, std::size_t n);
    void on_write_done();
    void drop_slow_client();
    void after_response();

    void arm_timer(std::chrono::steady_clock::duration d);
    void set_deadline(std::chrono::steady_clock::time_point deadline);
    void clear_deadline();
    void on_timer();
    void drop_client(); // the client left or broke the connection
    void close();

    Stream stream_;
    context& ctx_;
    boost::asio::steady_timer timer_;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    std::chrono::steady_clock::time_point timer_expiry_; // of the pending wait
    bool timer_pending_ = false;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::empty_body>> parser_;
    std::string out_;         // the bytes of the write in flight
    std::string_view unsent_; // what the kernel has not taken yet (of out_, or a keepalive)
    std::string pending_;     // bytes queued behind it
    std::shared_ptr<tasks::watch> watch_;
    std::shared_ptr<session> hold_self_; // set while a watch is in progress

    // The request being answered.
    std::string cors_origin_;
    request_mode mode_ = request_mode::other;
    state state_ = state::reading;
    bool task_path_ = false;
    bool keep_alive_ = true;
    bool http10_ = false;
    bool head_only_ = false;
    bool chunked_ = false;
    bool response_done_ = false; // the last bytes of the response are queued
    bool writing_ = false;
    bool stalled_ = false; // the kernel's send buffer is full: the client is not reading
    bool probing_ = false;
    bool first_request_ = true;
};

} // namespace rpd::http
