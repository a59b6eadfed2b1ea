#pragma once

#include "redis_push/http/byte_stream.hpp"
#include "redis_push/http/context.hpp"
#include "redis_push/http/endpoint.hpp"
#include "redis_push/http/held_response.hpp"
#include "redis_push/http/lazy_deadline.hpp"
#include "redis_push/http/output_queue.hpp"
#include "redis_push/http/response.hpp"
#include "redis_push/http/transport_sink.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rpd::http {

// One client connection: a keep-alive loop of request -> endpoint ->
// answer, where an answer may be a feed held open for a long time.
//
// Lifetime: every pending operation holds a shared_ptr to the session, so
// it lives exactly as long as something can still happen to it, plus a
// self-reference while it holds a feed (a pipelining client may leave no
// read pending). It owns the feed's handle and sink; close() drops the
// handle, which cancels the feed and frees its subscription share at once.
// While a request is being answered a read stays pending (the "probe"), so
// a client that leaves is noticed immediately.
//
// The files: session.cpp reads and dispatches, session_answer.cpp answers
// (exchange, held_response), session_write.cpp writes with the slow-client
// rules, keeps the deadlines and tears down.
class session final : public session_base,
                      public byte_stream::receiver,
                      public exchange,
                      public held_response,
                      public std::enable_shared_from_this<session> {
public:
    session(byte_stream stream, context& ctx);
    ~session();

    void run();
    void shutdown() override;
    void abort() override { close(); }

    // exchange
    const request& req() const override { return *request_; }
    void count_as(request_mode m) override { mode_ = m; }
    void answer_with_200() override { always_200_ = true; }
    void may_wait() override { may_wait_ = true; }
    void respond(unsigned status, std::string_view body, request_result result,
                 std::string_view content_type = "application/json") override {
        respond_with(status, body, result, content_type, {});
    }
    void respond_with(unsigned status, std::string_view body, request_result result,
                      std::string_view content_type, std::string_view extra_headers) override;
    void respond_error(unsigned status, std::string_view text, request_result result) override;
    void respond_preflight(bool post_allowed = false) override;
    void hold(transport t, const std::function<feed::handle(feed::sink&)>& start) override;
    void take_over(request_result result,
                   const std::function<void(taken_connection&&)>& adopt) override;

    // held_response (respond and respond_error above)
    void begin_stream(std::string_view content_type, std::string_view first_bytes,
                      const std::chrono::seconds* every, keepalive_bytes keepalive) override;
    bool streaming() const override { return state_ == state::holding; }
    void stream(std::string_view bytes) override;
    void end_stream(std::string_view last_bytes, request_result result) override;
    void keep_until_written(feed::receipt written) override { receipt_ = std::move(written); }
    request_metrics& metrics() override { return ctx_.metrics; }
    const live_settings& live() const override { return ctx_.live; }

    // byte_stream::receiver: the probe read and every write
    void on_read(const boost::system::error_code& ec, std::size_t n) override { on_bytes(ec, n); }
    void on_written(const boost::system::error_code& ec, std::size_t n) override {
        on_write_some(ec, n);
    }

    // lazy_deadline's owner
    lazy_deadline& deadline() { return deadline_; }
    void on_deadline();

private:
    enum class state : std::uint8_t {
        reading,  // waiting for (more of) a request head
        handling, // an endpoint is answering (a poll, a feed not yet open)
        holding,  // a feed is open: head sent, keepalives running
        closed
    };

    // The first read of a request; usually the whole head arrives in it.
    static constexpr std::size_t read_chunk = 1024;
    // While a feed is held, the pending read only has to notice the client
    // leaving; a small buffer keeps a held watch cheap (the bytes of a
    // pipelined request beyond it are read later, with the next head).
    static constexpr std::size_t probe_chunk = 64;

    // session.cpp
    void read_request();
    void start_probe(std::size_t chunk);
    void on_bytes(const boost::system::error_code& ec, std::size_t n);
    void read_head();
    void on_head(const boost::system::error_code& ec);
    void reject(const boost::system::error_code& ec);
    void on_request();
    void dispatch(const request& r);

    // session_answer.cpp
    response_head make_head(unsigned status) const;
    void answer_done(request_result result);
    void append_body(std::string_view bytes);

    // session_write.cpp
    void flush();
    void write_some(std::string_view bytes);
    void on_write_some(const boost::system::error_code& ec, std::size_t n);
    void on_write_done();
    void drop_slow_client();
    void after_response();
    void release_feed();
    // A held response with a keepalive interval (read at each use: a reload
    // may set it to 0).
    bool keepalives_on() const;
    void arm_keepalive();
    void drop_client(); // the client left or broke the connection
    void close();

    byte_stream stream_;
    context& ctx_;
    std::optional<connection_slot> slot_; // given away when the connection is taken over
    lazy_deadline deadline_;
    boost::beast::flat_buffer buffer_;
    using request_parser = boost::beast::http::request_parser<boost::beast::http::string_body>;
    std::unique_ptr<request_parser> parser_;
    output_queue output_;
    std::unique_ptr<transport_sink> sink_; // while a feed is held (and until the next request)
    feed::handle feed_;
    feed::receipt receipt_;              // of the item the response being written carries
    std::shared_ptr<session> hold_self_; // set while a feed is in progress
    const std::chrono::seconds* keepalive_every_ = nullptr;
    keepalive_bytes keepalive_;

    // The request being answered.
    const request* request_ = nullptr; // while an endpoint's serve() runs
    std::string cors_origin_;
    request_mode mode_ = request_mode::other;
    state state_ = state::reading;
    bool keep_alive_ = true;
    bool http10_ = false;
    bool head_only_ = false;
    bool always_200_ = false;
    bool may_wait_ = false;      // X-Accel-Buffering: no, as on a watch
    bool response_done_ = false; // the last bytes of the response are queued
    bool probing_ = false;
    bool first_request_ = true;
};

} // namespace rpd::http
