#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/redis/reply.hpp"
#include "redis_push/streams/stream_id.hpp"
#include "redis_push/streams/stream_message.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list_hook.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

namespace rpd::streams {

class stream_service;
class stream_channel;

// How a subscriber reads (MODES.md 3, 4).
struct subscribe_options {
    offset from{true, {}}; // `$` unless given
    // Long-poll: the feed ends after the first messages (at most
    // max_messages), or with none after `wait`. Otherwise it runs until
    // the client leaves.
    bool one_shot = false;
    std::size_t max_messages = 0; // one_shot only
    std::chrono::milliseconds wait{0};
};

// One client's cursor on one stream: resolves `$` (or checks the offset for
// a gap), replays what came after its offset page by page, then goes live
// on the channel's shared reads. The replay and the shared reads go through
// the one command connection, whose replies come in order: a shared read
// answered after the replay's last (short) page was executed after it, so
// nothing between the two is missed, and the cursor filter drops what both
// saw: no message twice, none missing.
class stream_subscriber final : public feed::source,
                                public std::enable_shared_from_this<stream_subscriber> {
public:
    stream_subscriber(stream_service& service, std::shared_ptr<stream_channel> channel,
                      feed::sink& sink, subscribe_options options);
    ~stream_subscriber() override;
    stream_subscriber(const stream_subscriber&) = delete;
    stream_subscriber& operator=(const stream_subscriber&) = delete;

    void start();
    void cancel() noexcept override;

    bool live() const { return state_ == state::live; }
    const stream_id& cursor() const { return cursor_; }
    // A shared read's entries: those after the cursor go to the client.
    void deliver(const message_batch& batch);
    void end(feed::end_reason reason);

    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>
        channel_hook;

private:
    enum class state : std::uint8_t { resolving, replaying, live, ended };

    void on_info(const redis::reply& r);
    void replay();
    void on_page(const redis::reply& r);
    void go_live();
    bool fail_on(const redis::reply& r);
    void arm_wait();
    void release();

    stream_service& service_;
    std::shared_ptr<stream_channel> channel_;
    feed::sink* sink_; // null once ended or cancelled
    subscribe_options options_;
    stream_id cursor_;
    std::size_t delivered_ = 0;
    bool gap_pending_ = false;
    bool wait_over_ = false; // one-shot: the wait ended before it went live
    state state_ = state::resolving;
    std::optional<boost::asio::steady_timer> wait_timer_;
};

} // namespace rpd::streams
