// http::session, second part: answering. The endpoint answers through
// `exchange` (at once, or by holding a feed); a held feed's sink answers
// through `held_response`.

#include "redis_push/http/session.hpp"

#include <boost/asio/post.hpp>

namespace rpd::http {

response_head session::make_head(unsigned status) const {
    response_head head;
    head.status = always_200_ ? 200 : status;
    head.keep_alive = keep_alive_ && !ctx_.shutting_down;
    head.http10 = http10_;
    head.cors_origin = cors_origin_;
    head.watch = mode_ == request_mode::watch || may_wait_;
    return head;
}

// The answer is queued: count it, let go of what held us for it, write.
void session::answer_done(request_result result) {
    parser_.reset();
    ctx_.metrics.count(mode_, result);
    response_done_ = true;
    // From here the write holds us; the feed (if any) has ended and only
    // its handle is left to drop.
    const auto keep = std::move(hold_self_);
    feed_.reset();
    if (output_.has_queued() || output_.writing())
        return flush();
    // Nothing left to write (a close-delimited stream whose end adds no
    // byte): go on as a finished write would, but not from inside the
    // sink that is calling us.
    boost::asio::post(stream_.get_executor(), [self = shared_from_this()] {
        if (self->state_ != state::closed && self->response_done_ && !self->output_.writing())
            self->after_response();
    });
}

void session::respond_with(unsigned status, std::string_view body, request_result result,
                           std::string_view content_type, std::string_view extra_headers) {
    if (state_ != state::handling)
        return;
    auto head = make_head(status);
    head.content_type = content_type;
    head.extra_headers = extra_headers;
    head.content_length = body.size();
    head.allow = status == 405;
    head.upgrade_websocket = status == 426;
    append_head(output_.queued(), head);
    if (!head_only_)
        output_.queued().append(body);
    answer_done(result);
}

void session::respond_error(unsigned status, std::string_view text, request_result result) {
    respond(status, error_body(text), result);
}

void session::respond_preflight(bool post_allowed) {
    if (state_ != state::handling)
        return;
    mode_ = request_mode::options;
    auto head = make_head(204);
    head.allow = true;
    head.allow_post = post_allowed;
    head.preflight = true;
    if (!cors_origin_.empty()) // a view into the parser: used before it goes
        head.cors_request_headers =
            request_->header(boost::beast::http::field::access_control_request_headers);
    append_head(output_.queued(), head);
    answer_done(request_result::ok);
}

void session::hold(transport t, const std::function<feed::handle(feed::sink&)>& start) {
    if (state_ != state::handling)
        return;
    // The feed only knows the sink; when no probe read is pending (a
    // pipelining client) nothing else would keep us alive.
    hold_self_ = shared_from_this();
    sink_ = make_sink(t, *this);
    feed_ = start(*sink_);
    // The request's views (the id in the target) are not needed any more.
    parser_.reset();
    request_ = nullptr;
    if (buffer_.size() == 0)
        buffer_.shrink_to_fit(); // give back the request's read buffer
    start_probe(probe_chunk);
}

void session::begin_stream(std::string_view content_type, std::string_view first_bytes,
                           const std::chrono::seconds* every, keepalive_bytes keepalive) {
    if (state_ != state::handling)
        return;
    state_ = state::holding;
    auto head = make_head(200);
    head.content_type = content_type;
    if (http10_) {
        // HTTP/1.0 has no chunks: the body ends when the connection does.
        head.body_framing = response_head::framing::close_delimited;
        head.keep_alive = keep_alive_ = false;
    } else {
        head.body_framing = response_head::framing::chunked;
    }
    append_head(output_.queued(), head);
    append_body(first_bytes);
    flush();
    keepalive_every_ = every;
    keepalive_ = keepalive;
    if (keepalives_on())
        arm_keepalive();
}

void session::append_body(std::string_view bytes) {
    if (http10_)
        output_.queued().append(bytes);
    else
        append_chunk(output_.queued(), bytes);
}

void session::stream(std::string_view bytes) {
    if (state_ != state::holding)
        return;
    append_body(bytes);
    flush();
}

void session::end_stream(std::string_view last_bytes, request_result result) {
    if (state_ != state::holding)
        return;
    // No more keepalives from here; the pending wait is left alone and
    // serves the next request's deadline (lazy_deadline).
    state_ = state::handling;
    keepalive_every_ = nullptr;
    if (!output_.stalled()) // a stalled client keeps its deadline to take something
        deadline_.clear();
    append_body(last_bytes);
    if (!http10_)
        output_.queued().append(last_chunk);
    answer_done(result);
}

void session::take_over(request_result result,
                        const std::function<void(taken_connection&&)>& adopt) {
    if (state_ != state::handling)
        return;
    ctx_.metrics.count(mode_, result);
    // Closed as far as this session goes, the stream left open: nothing
    // pending of ours can touch it (no read or write is in flight while an
    // endpoint serves), and close() finds the state closed.
    state_ = state::closed;
    deadline_.cancel();
    session_base::hook.unlink();
    taken_connection c{std::move(stream_), std::move(buffer_), parser_->release(),
                       std::move(*slot_)};
    slot_.reset();
    parser_.reset();
    adopt(std::move(c));
}

} // namespace rpd::http
