#pragma once

// Template definitions of http::session, second half: putting bytes on the
// wire (with the slow-client rules), the one timer behind every deadline,
// and teardown. Included by session_impl.hpp; the first half reads,
// routes and answers requests.

#include "redis_push/http/session.hpp"

#include <spdlog/spdlog.h>

namespace rpd::http {

namespace detail {
// close() alone ends a TCP connection gracefully (FIN); a shutdown() first
// would only add a system call per connection. beast::test::stream's
// close() takes no error_code.
template <class Stream> void close_stream(Stream& s) {
    if constexpr (requires(boost::system::error_code ec) { s.close(ec); }) {
        boost::system::error_code ec;
        s.close(ec);
    } else {
        s.close();
    }
}

// A graceful close would leave what the kernel still holds for a client
// that does not read (megabytes, on a fast link) queued until TCP gives up;
// a reset frees it at once.
template <class Stream> void reset_on_close(Stream& s) {
    if constexpr (requires(boost::system::error_code ec) {
                      s.set_option(boost::asio::socket_base::linger(true, 0), ec);
                  }) {
        boost::system::error_code ec;
        s.set_option(boost::asio::socket_base::linger(true, 0), ec);
    }
}
} // namespace detail

// ---- writing --------------------------------------------------------------

// Output goes out with write_some rather than one composed write, so that a
// client that stops reading is noticed: a partial write means the kernel's
// buffer for it is full (stalled_). While stalled, the client must take some
// bytes every request_timeout, and may not let more than max_output_bytes
// pile up in our buffers; otherwise it is dropped, and everything it held
// (its watch, its buffers) goes at once. A single answer of any size is
// still written whole to a client that reads it.
template <class Stream> void session<Stream>::flush() {
    if (state_ == state::closed || pending_.empty())
        return;
    if (writing_) {
        if (stalled_ && unsent_.size() + pending_.size() > ctx_.http.max_output_bytes)
            drop_slow_client();
        return;
    }
    writing_ = true;
    out_.swap(pending_);
    pending_.clear();
    unsent_ = out_;
    write_some();
}

template <class Stream> void session<Stream>::write_some() {
    stream_.async_write_some(
        boost::asio::buffer(unsent_.data(), unsent_.size()),
        [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
            self->on_write_some(ec, n);
        });
}

template <class Stream>
void session<Stream>::on_write_some(const boost::system::error_code& ec, std::size_t n) {
    if (state_ == state::closed)
        return;
    if (ec) {
        writing_ = false;
        return drop_client();
    }
    unsent_.remove_prefix(n);
    if (unsent_.empty())
        return on_write_done();
    // Partial: the client is slower than we write. Each bit of progress
    // moves the deadline; the timer is only touched when it would fire early.
    stalled_ = true;
    set_deadline(std::chrono::steady_clock::now() + ctx_.http.request_timeout);
    write_some();
}

template <class Stream> void session<Stream>::on_write_done() {
    writing_ = false;
    out_.clear();
    if (state_ == state::holding) {
        out_.shrink_to_fit(); // a held watch keeps no write buffer
        pending_.shrink_to_fit();
    }
    if (stalled_) {
        stalled_ = false;
        if (state_ == state::holding && ctx_.keepalive.count() > 0)
            arm_timer(ctx_.keepalive); // back from the stall deadline
        else
            clear_deadline();
    }
    if (!pending_.empty())
        return flush();
    if (response_done_)
        after_response();
}

template <class Stream> void session<Stream>::drop_slow_client() {
    ++ctx_.metrics.slow_clients_dropped;
    spdlog::debug("http: dropped a client that does not take its output");
    detail::reset_on_close(stream_);
    drop_client();
}

template <class Stream> void session<Stream>::after_response() {
    response_done_ = false;
    chunked_ = false;
    if (!keep_alive_ || ctx_.shutting_down)
        return close();
    read_request();
}

// ---- timers ---------------------------------------------------------------

// One timer serves every deadline of the connection (request head, idle,
// keepalive) and is moved lazily: a new deadline only re-arms it when the
// pending wait would fire too late. A wait that fires early finds its
// deadline not yet reached and re-arms for the rest. So a keep-alive
// connection's requests and a finishing watch touch the timer queue
// (a heap shared by every connection) not at all in the common case.
template <class Stream> void session<Stream>::arm_timer(std::chrono::steady_clock::duration d) {
    set_deadline(std::chrono::steady_clock::now() + d);
}

template <class Stream>
void session<Stream>::set_deadline(std::chrono::steady_clock::time_point deadline) {
    deadline_ = deadline;
    if (timer_pending_ && timer_expiry_ <= deadline)
        return;
    timer_pending_ = true;
    timer_expiry_ = deadline;
    timer_.expires_at(deadline);
    timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
        if (ec)
            return; // replaced by a later expires_at, or cancelled by close()
        self->timer_pending_ = false;
        self->on_timer();
    });
}

template <class Stream> void session<Stream>::clear_deadline() {
    deadline_ = std::chrono::steady_clock::time_point::max();
}

template <class Stream> void session<Stream>::on_timer() {
    if (state_ == state::closed || deadline_ == std::chrono::steady_clock::time_point::max())
        return;
    if (std::chrono::steady_clock::now() < deadline_)
        return set_deadline(deadline_); // woke early: wait for the rest
    clear_deadline();
    if (stalled_)
        return drop_slow_client(); // took nothing for request_timeout
    if (state_ == state::reading)
        return close(); // idle or too slow sending its head
    if (state_ != state::holding)
        return;
    // Keepalive: a newline only when the line is quiet; a write still in
    // flight means the client is slow, and a second newline would not help.
    // Written from static storage: a tick allocates nothing.
    if (!writing_) {
        writing_ = true;
        unsent_ = chunked_ ? keepalive_chunk : keepalive_bare;
        write_some();
    }
    arm_timer(ctx_.keepalive);
}

template <class Stream> void session<Stream>::drop_client() {
    if (watch_)
        ctx_.metrics.count(mode_, request_result::client_closed);
    close();
}

template <class Stream> void session<Stream>::close() {
    if (state_ == state::closed)
        return;
    state_ = state::closed;
    timer_.cancel();
    if (watch_) {
        watch_->abandon();
        watch_.reset();
    }
    parser_.reset();
    session_base::hook.unlink();
    detail::close_stream(stream_);
    hold_self_.reset(); // may destroy us: the last statement
}

} // namespace rpd::http
