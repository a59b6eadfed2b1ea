#include "redis_push/streams/history_fetch.hpp"

#include "redis_push/redis/argv.hpp"
#include "redis_push/streams/history_service.hpp"
#include "redis_push/streams/read_failure.hpp"

#include <boost/asio/post.hpp>

namespace rpd::streams {

history_fetch::history_fetch(history_service& service, std::string key, feed::sink& sink,
                             fetch_request req)
    : service_(service), key_(std::move(key)), sink_(&sink), req_(std::move(req)),
      cursor_(req_.after), accept_timer_(service.io()) {
    ++service_.tally().fetches_active;
}

history_fetch::~history_fetch() {
    release();
}

void history_fetch::start() {
    if (service_.shutting_down())
        return boost::asio::post(service_.io(), [weak = weak_from_this()] {
            if (auto self = weak.lock())
                self->end(feed::end_reason::shutting_down);
        });
    read_next();
}

void history_fetch::read_next() {
    const auto count = service_.settings().fetch_batch;
    auto args = range_command(key_, {direction::ascending, cursor_}, count);
    if (!args) { // after the largest id: nothing can follow
        exhausted_ = true;
        return boost::asio::post(service_.io(), [weak = weak_from_this()] {
            if (auto self = weak.lock(); self && self->sink_ != nullptr)
                self->pump();
        });
    }
    reading_ = true;
    service_.commands().command(*args, [weak = weak_from_this()](const redis::reply& r) {
        if (auto self = weak.lock())
            self->on_batch(r);
    });
}

void history_fetch::on_batch(const redis::reply& r) {
    reading_ = false;
    if (sink_ == nullptr)
        return;
    using kind = redis::reply::kind;
    if (r.type != kind::array)
        return end(read_failure(r).value_or(feed::end_reason::unavailable));
    std::size_t examined = 0;
    for (const auto e : r) {
        if (e.type != kind::array || e.size() != 2)
            continue;
        const auto id = parse_stream_id(e[0].value);
        if (!id)
            continue;
        ++examined;
        cursor_ = *id;
        if (matches(req_.where, e[1]))
            rows_.push_back({*id, std::string(e[0].value), render_message(e[0].value, e[1])});
    }
    service_.tally().entries_examined += examined;
    exhausted_ = r.size() < service_.settings().fetch_batch;
    pump();
}

// The one place that decides what happens next: a row out (when none is
// awaiting acceptance), a read (when nothing is buffered), or the end.
void history_fetch::pump() {
    if (sink_ == nullptr || awaiting_)
        return;
    if (rows_.empty()) {
        if (exhausted_)
            return end(feed::end_reason::delivered);
        if (!reading_)
            read_next();
        return;
    }
    const auto keep = shared_from_this();
    const auto row = std::move(rows_.front());
    rows_.pop_front();
    awaiting_ = true;
    accept_timer_.expires_after(service_.settings().accept_timeout);
    accept_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!self || ec || !self->awaiting_)
            return;
        self->end(feed::end_reason::timed_out);
    });
    ++service_.tally().messages_delivered;
    sink_->event("row", row.json, row.offset);
    // Read ahead while the client looks at the last buffered row.
    if (sink_ != nullptr && rows_.empty() && !exhausted_ && !reading_)
        read_next();
}

void history_fetch::accept() {
    if (sink_ == nullptr || !awaiting_)
        return;
    awaiting_ = false;
    accept_timer_.cancel();
    pump();
}

void history_fetch::end(feed::end_reason reason) {
    if (sink_ == nullptr)
        return;
    const auto keep = shared_from_this();
    auto& t = service_.tally();
    if (reason == feed::end_reason::delivered)
        ++t.fetches_completed;
    else if (reason == feed::end_reason::timed_out)
        ++t.fetches_timed_out;
    else
        ++t.fetches_failed;
    auto* s = std::exchange(sink_, nullptr);
    release();
    s->ended(reason, {});
}

void history_fetch::cancel() noexcept {
    if (sink_ != nullptr)
        ++service_.tally().fetches_stopped;
    sink_ = nullptr;
    release();
}

void history_fetch::release() {
    awaiting_ = false;
    accept_timer_.cancel();
    rows_.clear();
    if (std::exchange(counted_, false))
        --service_.tally().fetches_active;
}

} // namespace rpd::streams
