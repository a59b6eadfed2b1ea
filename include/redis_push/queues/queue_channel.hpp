#pragma once

#include "redis_push/feed/end_reason.hpp"
#include "redis_push/queues/queue_waiter.hpp"
#include "redis_push/redis/reply.hpp"
#include "redis_push/redis/subscription.hpp"

#include <boost/intrusive/list.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace rpd::queues {

class queue_service;

// Everything this daemon does for one queue that has local waiters: the
// doorbell (the list's keyspace notifications, one share in the subscriber
// pool) and the take rounds. A round takes, in one Redis command, one
// message for each waiter in line (`LPOP key n`, or the take script when
// one of them is acknowledged) and hands them out oldest waiter first, so
// a burst of pushes costs a few commands, never one per waiter. Owned by
// its waiters; the last one leaving unsubscribes.
class queue_channel final : public redis::channel_listener,
                            public std::enable_shared_from_this<queue_channel> {
public:
    queue_channel(queue_service& service, std::string name);
    ~queue_channel();
    queue_channel(const queue_channel&) = delete;
    queue_channel& operator=(const queue_channel&) = delete;

    const std::string& name() const { return name_; }
    void open();
    void add(queue_waiter& w) { line_.push_back(w); }
    bool has_waiters() const { return !line_.empty(); }

    // Messages may be there: a round now, or after the one in flight.
    void ring();
    // The periodic re-check: a round if none ran for `quiet`.
    void recheck(std::chrono::steady_clock::time_point now,
                 std::chrono::steady_clock::duration quiet);
    void end_all(feed::end_reason reason);

private:
    struct round_member {
        std::weak_ptr<queue_waiter> waiter;
        std::string delivery_id; // empty for a plain take
    };

    void on_subscribed() override { ring(); }
    void on_message(std::string_view event) override;
    void take_round();
    void on_taken(const redis::reply& r);
    // The round's waiters that got nothing: back to the front of the line,
    // in their order (or ended, for a once-only take).
    void requeue_unserved(std::vector<round_member>& round, std::size_t served);
    void give_back(std::vector<std::string> plain, std::vector<std::string> delivery_ids);

    using line_list = boost::intrusive::list<
        queue_waiter,
        boost::intrusive::member_hook<queue_waiter, decltype(queue_waiter::channel_hook),
                                      &queue_waiter::channel_hook>,
        boost::intrusive::constant_time_size<false>>;

    queue_service& service_;
    std::string name_;
    std::string key_;
    redis::subscription doorbell_;
    line_list line_;                  // waiting, oldest first
    std::vector<round_member> round_; // the round in flight, in line order
    bool taking_ = false;
    bool rang_ = false; // during a round: another is due after it
    std::chrono::steady_clock::time_point last_round_{};
};

} // namespace rpd::queues
