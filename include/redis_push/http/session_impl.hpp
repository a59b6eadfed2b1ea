#pragma once

// Template definitions of http::session, first half: reading, routing and
// answering requests (the second half, session_transport_impl.hpp, writes,
// keeps the deadlines and tears down). Included by session.cpp (for
// tcp::socket) and by the unit tests (for beast::test::stream).

#include "redis_push/http/response.hpp"
#include "redis_push/http/session.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <spdlog/spdlog.h>

namespace rpd::http {

namespace detail {
inline method method_of(boost::beast::http::verb v) {
    using boost::beast::http::verb;
    switch (v) {
    case verb::get:
        return method::get;
    case verb::head:
        return method::head;
    case verb::options:
        return method::options;
    default:
        return method::other;
    }
}

// The first read of a request; usually the whole head arrives in it.
constexpr std::size_t read_chunk = 1024;
// While a watch waits, the pending read only has to notice the client
// leaving; a small buffer keeps a held watch cheap (the bytes of a pipelined
// request beyond it are read later, with the next head).
constexpr std::size_t probe_chunk = 64;
} // namespace detail

template <class Stream>
session<Stream>::session(Stream&& stream, context& ctx)
    : stream_(std::move(stream)), ctx_(ctx), timer_(stream_.get_executor()) {
    ctx_.sessions.push_back(*this);
    ++ctx_.metrics.connections_open;
}

template <class Stream> session<Stream>::~session() {
    if (watch_)
        watch_->abandon();
    --ctx_.metrics.connections_open;
}

template <class Stream> void session<Stream>::run() {
    read_request();
}

template <class Stream> void session<Stream>::shutdown() {
    if (state_ == state::reading)
        close();
    // Otherwise the answer in progress goes out first; after_response()
    // closes because ctx_.shutting_down is set.
}

// ---- reading --------------------------------------------------------------

template <class Stream> void session<Stream>::read_request() {
    state_ = state::reading;
    if (buffer_.size() > 0) // a pipelined request is already here
        return read_head();
    // Nothing yet: this is the idle (keep-alive) wait, or for a new
    // connection the wait for its first request.
    arm_timer(first_request_ ? ctx_.http.request_timeout : ctx_.http.idle_timeout);
    if (!probing_)
        start_probe(detail::read_chunk);
}

template <class Stream> void session<Stream>::start_probe(std::size_t chunk) {
    if (probing_ || state_ == state::closed || buffer_.size() > 0)
        return;
    probing_ = true;
    stream_.async_read_some(buffer_.prepare(chunk), [self = this->shared_from_this()](
                                                        const boost::system::error_code& ec,
                                                        std::size_t n) { self->on_bytes(ec, n); });
}

template <class Stream>
void session<Stream>::on_bytes(const boost::system::error_code& ec, std::size_t n) {
    probing_ = false;
    if (state_ == state::closed)
        return;
    if (ec) // EOF or reset: the client is gone. A pending watch goes with it.
        return drop_client();
    buffer_.commit(n);
    if (state_ == state::reading)
        return read_head();
    // A request pipelined behind one still being answered: keep it for
    // later and stop probing, so that no read is pending when the next
    // head is parsed (test streams cannot cancel one). Such a client's
    // departure shows up at the next keepalive write instead.
}

template <class Stream> void session<Stream>::read_head() {
    first_request_ = false;
    arm_timer(ctx_.http.request_timeout); // counted from the request's first byte
    parser_.emplace();
    parser_->header_limit(ctx_.http.max_header_bytes);
    boost::beast::http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t) {
            self->on_head(ec);
        });
}

template <class Stream> void session<Stream>::on_head(const boost::system::error_code& ec) {
    namespace bhttp = boost::beast::http;
    if (state_ == state::closed)
        return;
    clear_deadline(); // the request is in; what follows sets its own
    // Nothing of the previous request may leak into this one's answer.
    head_only_ = false;
    task_path_ = false;
    cors_origin_.clear();
    if (ec) {
        parser_.reset();
        keep_alive_ = false;
        mode_ = request_mode::other;
        if (ec == bhttp::error::header_limit)
            return respond_error(431, "Request too large", request_result::too_large);
        if (ec == bhttp::error::end_of_stream || ec == boost::asio::error::eof ||
            ec == boost::asio::error::operation_aborted ||
            ec == boost::asio::error::connection_reset)
            return close();
        return respond_error(400, "Bad Request", request_result::bad_request);
    }
    const auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    http10_ = req.version() < 11;
    // We never read request bodies: answer, then close instead of parsing one.
    if (!parser_->is_done())
        keep_alive_ = false;
    // A Transfer-Encoding that does not end in chunked leaves the body's end
    // unknowable (RFC 9112 6.3): a proxy in front may frame it differently,
    // so reading on could answer a request smuggled inside it.
    if (!parser_->chunked() && req.find(bhttp::field::transfer_encoding) != req.end()) {
        keep_alive_ = false;
        mode_ = request_mode::other;
        return respond_error(400, "Bad Request", request_result::bad_request);
    }
    if (ctx_.cors.enabled()) {
        const auto origin = req[bhttp::field::origin];
        if (ctx_.cors.allows(origin))
            cors_origin_.assign(origin.data(), origin.size());
    }
    const method m = detail::method_of(req.method());
    dispatch(m, req.target());
}

template <class Stream> void session<Stream>::dispatch(method m, std::string_view target) {
    const route r = ctx_.routes.resolve(m, target);
    head_only_ = m == method::head;
    task_path_ = target.starts_with("/task/");
    mode_ = head_only_ ? request_mode::head : request_mode::poll;
    state_ = state::handling;

    switch (r.type) {
    case route::kind::healthz: {
        mode_ = request_mode::operations;
        const bool up = ctx_.redis_up();
        return respond(up ? 200 : 503, up ? R"({"redis":"up"})" : R"({"redis":"down"})",
                       request_result::ok);
    }
    case route::kind::metrics:
        mode_ = request_mode::operations;
        return respond(200, ctx_.render_metrics(), request_result::ok,
                       "text/plain; version=0.0.4; charset=utf-8");
    case route::kind::not_found:
        mode_ = request_mode::other;
        if (ctx_.statics.enabled() && (m == method::get || m == method::head)) {
            if (auto f = ctx_.statics.lookup(target.substr(0, target.find('?'))))
                return respond(200, f->content, request_result::ok, f->content_type);
        }
        return respond_error(404, "Not Found", request_result::unknown_path);
    case route::kind::method_not_allowed:
        mode_ = request_mode::other;
        return respond_error(405, "Method Not Allowed", request_result::method_not_allowed);
    case route::kind::invalid_task_id:
        return respond_error(400, "Invalid task id", request_result::invalid_task_id);
    case route::kind::invalid_signature:
        return respond_error(403, "Invalid signature", request_result::invalid_signature);
    case route::kind::invalid_mode:
        return respond_error(400, "Invalid mode", request_result::invalid_mode);
    case route::kind::task_options: {
        mode_ = request_mode::options;
        auto head = make_head(204);
        head.allow = true;
        head.preflight = true;
        if (!cors_origin_.empty()) // a view into the parser: used before it goes
            head.cors_request_headers =
                parser_->get()[boost::beast::http::field::access_control_request_headers];
        append_head(pending_, head);
        parser_.reset();
        ctx_.metrics.count(mode_, request_result::ok);
        response_done_ = true;
        return flush();
    }
    case route::kind::task_poll:
        // r.id points into the parser: use it before letting the parser go.
        ctx_.tasks.poll(r.id,
                        [self = this->shared_from_this()](tasks::outcome o, std::string_view v) {
                            self->on_poll_result(o, v);
                        });
        parser_.reset();
        return;
    case route::kind::task_watch:
        mode_ = request_mode::watch;
        // The watch only knows us as its observer; when no probe read is
        // pending (a pipelining client) nothing else would keep us alive.
        hold_self_ = this->shared_from_this();
        watch_ = ctx_.tasks.start_watch(r.id, *this);
        parser_.reset();
        if (buffer_.size() == 0)
            buffer_.shrink_to_fit(); // give back the request's read buffer
        return start_probe(detail::probe_chunk);
    }
}

// ---- answering ------------------------------------------------------------

template <class Stream> response_head session<Stream>::make_head(unsigned status) const {
    response_head head;
    head.status = (ctx_.http.always_200 && task_path_) ? 200 : status;
    head.keep_alive = keep_alive_ && !ctx_.shutting_down;
    head.http10 = http10_;
    head.cors_origin = cors_origin_;
    head.watch = mode_ == request_mode::watch;
    return head;
}

template <class Stream>
void session<Stream>::respond(unsigned status, std::string_view body, request_result result,
                              std::string_view content_type) {
    auto head = make_head(status);
    head.content_type = content_type;
    head.content_length = body.size();
    head.allow = status == 405;
    append_head(pending_, head);
    if (!head_only_)
        pending_.append(body);
    parser_.reset();
    ctx_.metrics.count(mode_, result);
    response_done_ = true;
    flush();
}

template <class Stream>
void session<Stream>::respond_error(unsigned status, std::string_view text, request_result result) {
    respond(status, error_body(text), result);
}

template <class Stream>
void session<Stream>::on_poll_result(tasks::outcome result, std::string_view value) {
    if (state_ != state::handling)
        return;
    switch (result) {
    case tasks::outcome::found:
        return respond(200, value, request_result::found);
    case tasks::outcome::not_found:
        return respond_error(404, "Not Found", request_result::not_found);
    default:
        return respond_error(503, "Redis unavailable", request_result::unavailable);
    }
}

namespace detail {
inline std::string_view error_text(tasks::outcome o) {
    switch (o) {
    case tasks::outcome::not_found:
        return "Not Found";
    case tasks::outcome::invalid_json:
        return "Invalid JSON in task data";
    case tasks::outcome::unavailable:
        return "Redis unavailable";
    case tasks::outcome::killed:
        return "Killed due to another concurrent request for this task";
    case tasks::outcome::timed_out:
        return "Watch timed out";
    case tasks::outcome::shutting_down:
        return "Server shutting down";
    default:
        return "";
    }
}

inline unsigned status_of(tasks::outcome o) {
    switch (o) {
    case tasks::outcome::not_found:
        return 404;
    case tasks::outcome::invalid_json:
        return 502;
    case tasks::outcome::unavailable:
        return 503;
    case tasks::outcome::shutting_down:
        return 503;
    default:
        return 200;
    }
}
} // namespace detail

template <class Stream> void session<Stream>::on_watch_established() {
    if (state_ != state::handling)
        return;
    state_ = state::holding;
    auto head = make_head(200);
    if (http10_) {
        // HTTP/1.0 has no chunks: the body ends when the connection does.
        head.body_framing = response_head::framing::close_delimited;
        head.keep_alive = keep_alive_ = false;
    } else {
        head.body_framing = response_head::framing::chunked;
    }
    chunked_ = !http10_;
    append_head(pending_, head);
    flush();
    if (ctx_.keepalive.count() > 0)
        arm_timer(ctx_.keepalive);
}

template <class Stream>
void session<Stream>::on_watch_finished(tasks::outcome result, std::string_view value) {
    watch_.reset();
    // Released at the end of this call: the write below holds us from then.
    const auto keep = std::move(hold_self_);
    if (state_ == state::closed)
        return;
    const bool answer = result == tasks::outcome::found || result == tasks::outcome::delivered;
    if (state_ == state::handling) {
        // Never established: a complete response with a real status.
        if (answer)
            return respond(200, value, result_of(result));
        return respond_error(detail::status_of(result), detail::error_text(result),
                             result_of(result));
    }
    if (state_ != state::holding)
        return;
    // No more keepalives from here; the pending wait is left alone and
    // serves the next request's deadline (see set_deadline).
    state_ = state::handling;
    if (!stalled_) // a stalled client keeps its deadline to take something
        clear_deadline();
    const std::string error = answer ? std::string() : error_body(detail::error_text(result));
    const std::string_view body = answer ? value : std::string_view(error);
    if (chunked_) {
        append_chunk(pending_, body);
        pending_.append(last_chunk);
    } else {
        pending_.append(body);
    }
    ctx_.metrics.count(mode_, result_of(result));
    response_done_ = true;
    flush();
}

} // namespace rpd::http

#include "redis_push/http/session_transport_impl.hpp"
