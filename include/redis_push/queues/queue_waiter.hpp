#pragma once

#include "redis_push/feed/feed.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list_hook.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace rpd::queues {

class queue_service;
class queue_channel;

// How one client takes from a queue (MODES.md 1).
struct take_options {
    bool acknowledged = false;             // ?ack: the message moves to in-flight until acked
    std::chrono::milliseconds wait{30000}; // 0: one attempt, answered at once
};

// One client waiting for one message. It stands in its channel's line
// (oldest first) until a take round includes it; the round's reply brings
// its message, or puts it back at the front of the line. A client that
// leaves while its round is in flight simply is not there when the reply
// comes: the round then puts its message back.
class queue_waiter final : public feed::source, public std::enable_shared_from_this<queue_waiter> {
public:
    queue_waiter(queue_service& service, std::shared_ptr<queue_channel> channel, feed::sink& sink,
                 take_options options);
    ~queue_waiter() override;
    queue_waiter(const queue_waiter&) = delete;
    queue_waiter& operator=(const queue_waiter&) = delete;

    void start();
    void cancel() noexcept override;

    bool waiting() const { return sink_ != nullptr; }
    bool acknowledged() const { return options_.acknowledged; }
    // Only one attempt: a round that brings nothing ends it.
    bool once() const { return options_.wait.count() == 0; }
    // Whether a take already reached Redis for it (a later failure then
    // keeps it waiting: the reconnect tries again).
    bool tried() const { return tried_; }
    void mark_tried() { tried_ = true; }

    // The message taken for it; `delivery_id` empty unless acknowledged.
    // The receipt goes with it to the transport.
    void deliver(std::string_view message, std::string_view delivery_id, feed::receipt written);
    void end(feed::end_reason reason);

    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>
        channel_hook;

private:
    void release();

    queue_service& service_;
    std::shared_ptr<queue_channel> channel_;
    feed::sink* sink_; // null once ended or cancelled
    take_options options_;
    std::optional<boost::asio::steady_timer> wait_timer_;
    bool tried_ = false;
};

} // namespace rpd::queues
