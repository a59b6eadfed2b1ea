#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/queues/queue_settings.hpp"
#include "redis_push/queues/queue_waiter.hpp"
#include "redis_push/redis/command_connection.hpp"
#include "redis_push/redis/subscriber_pool.hpp"
#include "redis_push/util/uuid.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rpd::queues {

class queue_channel;

// Counters the queue mode keeps for /metrics.
struct queue_counters {
    std::uint64_t waiters = 0;   // clients waiting for a message
    std::uint64_t delivered = 0; // messages written to a client
    std::uint64_t requeued = 0;  // put back: a vanished client's, or an expired delivery
    std::uint64_t rounds = 0;    // take commands (each serves every waiter in line)
};

// The queue mode on top of the Redis layer (MODES.md 1): takes as feeds,
// publish, length, ack, and the put-back of expired deliveries. One
// channel per queue with local waiters; the Redis connections are the
// shared ones, whatever the number of clients.
class queue_service {
public:
    queue_service(boost::asio::io_context& ioc, redis::command_connection& commands,
                  redis::subscriber_pool& subscribers, queue_mode_settings settings);
    ~queue_service();
    queue_service(const queue_service&) = delete;
    queue_service& operator=(const queue_service&) = delete;

    // `name` is the client's queue name. The sink hears, for a message:
    // hand_over(receipt), event("json" or "text", message, delivery id),
    // ended(delivered); else ended(expired | unavailable | wrong_type |
    // shutting_down). Nothing is called back from inside this call.
    feed::handle take(std::string_view name, feed::sink& sink, take_options options);

    enum class outcome { done, not_found, wrong_type, unavailable };
    struct result {
        outcome type;
        long long count = 0;
    };
    // RPUSH; `count` is the length after it.
    void publish(std::string_view name, std::string_view message,
                 std::function<void(const result&)> done);
    // LLEN (0 for a missing queue).
    void length(std::string_view name, std::function<void(const result&)> done);
    // Acknowledges a delivery: done, or not_found when it is not in flight.
    void ack(std::string_view name, std::string_view delivery_id,
             std::function<void(const result&)> done);

    // Starts the periodic re-check and put-back of expired deliveries.
    void start();
    // Every queue with waiters is taken from again (after a reconnect).
    void recheck_all();
    void shutdown();

    const queue_counters& counters() const { return counters_; }
    std::size_t channel_count() const { return channels_.size(); }

private:
    friend class queue_channel;
    friend class queue_waiter;

    std::shared_ptr<queue_channel> channel_for(std::string_view name);
    void forget(const std::string& name) { channels_.erase(name); }
    std::string doorbell_of(std::string_view name) const;
    std::string new_delivery_id();
    // A receipt that, unless the message was written, puts it back: at the
    // head of the queue, or (acknowledged) out of in-flight to the head.
    feed::receipt receipt_for(const std::string& name, std::string_view message,
                              std::string_view delivery_id);
    void put_back(const std::string& name, std::vector<std::string> messages);
    void put_back_deliveries(const std::string& name, std::vector<std::string> delivery_ids);
    void arm_tick();
    void tick();
    void put_back_expired();

    boost::asio::io_context& io() { return ioc_; }
    redis::command_connection& commands() { return commands_; }
    redis::subscriber_pool& subscribers() { return subscribers_; }
    const queue_mode_settings& settings() const { return settings_; }
    queue_counters& tally() { return counters_; }
    bool shutting_down() const { return shutting_down_; }

    boost::asio::io_context& ioc_;
    redis::command_connection& commands_;
    redis::subscriber_pool& subscribers_;
    queue_mode_settings settings_;
    queue_counters counters_;
    std::unordered_map<std::string, queue_channel*> channels_; // each removes itself
    util::uuid_generator ids_;
    boost::asio::steady_timer tick_timer_;
    bool sweeping_ = false;
    bool shutting_down_ = false;
    // Receipts may be settled after we are gone (a session outliving the
    // server at teardown): they hold this weakly.
    std::shared_ptr<queue_service*> self_;
};

} // namespace rpd::queues
