#pragma once

#include "redis_push/redis/reply.hpp"
#include "redis_push/redis/subscription.hpp"
#include "redis_push/streams/group_reader.hpp"
#include "redis_push/streams/stream_id.hpp"
#include "redis_push/streams/stream_message.hpp"
#include "redis_push/streams/stream_subscriber.hpp"

#include <boost/intrusive/list.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace rpd::streams {

class stream_service;

// Everything this daemon does for one stream key that has local clients:
// the doorbell (its keyspace notification channel, one share in the
// subscriber pool) and the one read of new entries that serves every live
// subscriber of the key. A ring while a read is in flight only marks that
// another read is due, so a burst of XADDs costs a few batched reads, not
// one per entry and never one per client. Owned by its clients (shared);
// the last one leaving unsubscribes.
class stream_channel final : public redis::channel_listener,
                             public std::enable_shared_from_this<stream_channel> {
public:
    stream_channel(stream_service& service, std::string key);
    ~stream_channel();
    stream_channel(const stream_channel&) = delete;
    stream_channel& operator=(const stream_channel&) = delete;

    const std::string& key() const { return key_; }
    // Subscribes the doorbell.
    void open();

    void add(stream_subscriber& s);
    // `s` finished its replay: from here shared reads feed it. Rings, for
    // an entry added between its last read and now.
    void went_live(const stream_id& cursor);
    bool has_clients() const { return !subscribers_.empty() || !waiters_.empty(); }
    void add_waiter(group_reader& g);

    // New entries may be there: read them (now, or after the read in flight).
    void ring();
    // The periodic re-check, which the service batches into one XREAD over
    // many keys: whether this key is due (live subscribers, no read for a
    // re-check interval), and the read's start and end. `entries`: this
    // key's part of the reply, null when it had nothing new.
    bool due_for_recheck(std::chrono::steady_clock::time_point now) const;
    const stream_id& read_from() const { return *read_from_; }
    void begin_shared_read();
    void end_batched_read(const redis::reply* entries);
    void end_batched_read_failed();
    void end_batched_read_unavailable() { reading_ = false; }
    void wake_waiters();
    // Every subscriber and waiter ends with `reason` (shutdown).
    void end_all(feed::end_reason reason);

private:
    void on_subscribed() override { ring(); }
    void on_message(std::string_view) override { ring(); }

    bool any_live() const;
    void read();
    void on_read(const redis::reply& r);
    // Entries of an XRANGE-shaped array: rendered once, fanned out.
    void take(const redis::reply& entries);
    void fan_out(const shared_batch& batch);

    template <class T>
    using list_of = boost::intrusive::list<
        T, boost::intrusive::member_hook<T, decltype(T::channel_hook), &T::channel_hook>,
        boost::intrusive::constant_time_size<false>>;

    stream_service& service_;
    std::string key_;
    redis::subscription doorbell_;
    list_of<stream_subscriber> subscribers_;
    list_of<group_reader> waiters_;      // consumer-group reads with nothing yet, oldest first
    std::optional<stream_id> read_from_; // the newest entry the shared reads saw
    bool reading_ = false;
    bool rang_ = false; // during a read: another is due after it
    std::chrono::steady_clock::time_point last_read_{};
};

} // namespace rpd::streams
