#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/redis/reply.hpp"
#include "redis_push/streams/history_query.hpp"
#include "redis_push/streams/stream_message.hpp"

#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>

namespace rpd::streams {

class history_service;

struct fetch_request {
    std::optional<stream_id> after; // exclusive; none: from the first entry
    filter_list where;
};

// A flow-controlled fetch (MODES.md 3): one row at a time, the next only
// after accept(). The sink hears event("row", message, offset) for each
// row and ends once: delivered (no entry left after the last row's
// acceptance), timed_out (no acceptance within history.accept_timeout),
// unavailable / wrong_type (Redis failed), shutting_down. Entries are read
// fetch_batch at a time, the next batch asked for when the last row of the
// one before goes out, so at most one batch is held and the client rarely
// waits for Redis. Owned by its transport; cancel() (the client's own end,
// or its socket closing) frees the timer and drops late replies.
class history_fetch final : public feed::source,
                            public std::enable_shared_from_this<history_fetch> {
public:
    history_fetch(history_service& service, std::string key, feed::sink& sink, fetch_request req);
    ~history_fetch() override;
    history_fetch(const history_fetch&) = delete;
    history_fetch& operator=(const history_fetch&) = delete;

    void start();
    // The client took the row it was sent; one with no row outstanding is
    // ignored (a repeated acceptance changes nothing).
    void accept();
    // Counted as stopped by the client (its `end`, or the socket closed).
    void cancel() noexcept override;

private:
    void read_next();
    void on_batch(const redis::reply& r);
    void pump();
    void end(feed::end_reason reason);
    void release();

    history_service& service_;
    std::string key_;
    feed::sink* sink_; // null once ended or cancelled
    fetch_request req_;
    std::optional<stream_id> cursor_; // the last entry read (exclusive start of the next read)
    std::deque<message> rows_;        // read, matching, not yet sent
    bool reading_ = false;
    bool exhausted_ = false; // a short read: nothing after the cursor
    bool awaiting_ = false;  // a row is out, its acceptance not yet in
    bool counted_ = true;    // in fetches_active
    boost::asio::steady_timer accept_timer_;
};

} // namespace rpd::streams
