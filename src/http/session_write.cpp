// http::session, third part: putting bytes on the wire (with the
// slow-client rules of output_queue), the one deadline, and teardown.

#include "redis_push/http/session.hpp"

#include <spdlog/spdlog.h>

namespace rpd::http {

// While stalled, the client must take some bytes every request_timeout, and
// may not let more than max_output_bytes pile up; otherwise it is dropped,
// and everything it held (its feed, its buffers) goes at once.
void session::flush() {
    if (state_ == state::closed || !output_.has_queued())
        return;
    if (output_.writing()) {
        if (output_.over_limit(ctx_.http.max_output_bytes))
            drop_slow_client();
        return;
    }
    write_some(output_.begin_write());
}

void session::write_some(std::string_view bytes) {
    stream_.write_some_from(boost::asio::buffer(bytes.data(), bytes.size()), shared_from_this());
}

void session::on_write_some(const boost::system::error_code& ec, std::size_t n) {
    if (state_ == state::closed)
        return;
    if (ec) {
        output_.abandon_write();
        return drop_client();
    }
    const auto rest = output_.wrote(n);
    if (rest.empty())
        return on_write_done();
    // Partial: the client is slower than we write. Each bit of progress
    // moves the deadline; the timer is only touched when it would fire early.
    deadline_.set_in(ctx_.http.request_timeout, shared_from_this());
    write_some(rest);
}

void session::on_write_done() {
    const bool was_stalled = output_.finish_write(state_ == state::holding);
    if (was_stalled) {
        if (keepalives_on())
            arm_keepalive(); // back from the stall
        else
            deadline_.clear();
    }
    if (output_.has_queued())
        return flush();
    if (response_done_) {
        receipt_.settle(true);
        after_response();
    }
}

void session::drop_slow_client() {
    ++ctx_.metrics.slow_clients_dropped;
    spdlog::debug("http: dropped a client that does not take its output");
    stream_.reset_on_close();
    drop_client();
}

void session::after_response() {
    response_done_ = false;
    sink_.reset();
    if (!keep_alive_ || ctx_.shutting_down)
        return close();
    read_request();
}

void session::on_deadline() {
    if (state_ == state::closed)
        return;
    if (output_.stalled())
        return drop_slow_client(); // took nothing for request_timeout
    if (state_ == state::reading)
        return close(); // idle or too slow sending its head
    if (!keepalives_on())
        return;
    // Keepalive: only when the line is quiet; a write still in flight means
    // the client is slow, and one more keepalive would not help.
    if (!output_.writing())
        write_some(output_.begin_static_write(http10_ ? keepalive_.bare : keepalive_.chunked));
    arm_keepalive();
}

bool session::keepalives_on() const {
    return state_ == state::holding && keepalive_every_ != nullptr && keepalive_every_->count() > 0;
}

void session::arm_keepalive() {
    deadline_.set_in(*keepalive_every_, shared_from_this());
}

void session::drop_client() {
    if (feed_)
        ctx_.metrics.count(mode_, request_result::client_closed);
    close();
}

void session::close() {
    if (state_ == state::closed)
        return;
    state_ = state::closed;
    deadline_.cancel();
    feed_.reset();          // the client is gone: the feed is cancelled, tells nobody
    receipt_.settle(false); // an item its answer carried goes back
    // The sink stays until we go: close() may run inside one of its calls
    // (a slow client dropped while an event is queued). So does the parser:
    // a read of a head or body in flight still uses it when it completes
    // (Beast's read op looks at the parser after the socket's error), and
    // freeing it here was a use-after-free (found under fd exhaustion).
    session_base::hook.unlink();
    stream_.close();
    hold_self_.reset(); // may destroy us: the last statement
}

} // namespace rpd::http
