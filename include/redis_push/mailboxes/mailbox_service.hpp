#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/mailboxes/mailbox_reader.hpp"
#include "redis_push/mailboxes/mailbox_settings.hpp"
#include "redis_push/mailboxes/notify_consumer.hpp"
#include "redis_push/redis/command_connection.hpp"
#include "redis_push/redis/subscriber_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rpd::mailboxes {

class mailbox_channel;

// Counters the mailbox mode keeps for /metrics.
struct mailbox_counters {
    std::uint64_t waiting = 0;   // long-polls waiting
    std::uint64_t sockets = 0;   // identified WebSockets
    std::uint64_t delivered = 0; // messages written to a client
    std::uint64_t requeued = 0;  // put back: their client left before they were written
    std::uint64_t drains = 0;    // LPOPs (each takes everything queued, up to a batch)
};

// The mailbox mode on top of the Redis layer (MODES.md 2). One channel
// per mailbox with local readers; the shared Redis connections, plus one
// of its own when a notify list is configured.
class mailbox_service {
public:
    mailbox_service(boost::asio::io_context& ioc, redis::command_connection& commands,
                    redis::subscriber_pool& subscribers, const redis::endpoint& redis_endpoint,
                    mailbox_mode_settings settings);
    ~mailbox_service();
    mailbox_service(const mailbox_service&) = delete;
    mailbox_service& operator=(const mailbox_service&) = delete;

    // A long-poll: the sink hears hand_over(receipt), event("json", array),
    // ended(delivered); or ended(expired | unavailable | wrong_type |
    // shutting_down). Nothing is called back from inside the call.
    feed::handle wait(std::string_view identity, feed::sink& sink, std::chrono::milliseconds wait);
    // An identified WebSocket: for each message hand_over(receipt) then
    // event("message", the stored string); ended(killed) when a newer
    // socket identifies the same identity; ended(wrong_type | shutting_down).
    feed::handle identify(std::string_view identity, feed::sink& sink);

    // LLEN of the mailbox's list (-1: not a list; nullopt: Redis failed).
    void length(std::string_view identity, std::function<void(std::optional<long long>)> done);

    void start();
    void recheck_all();
    void shutdown();

    const mailbox_counters& counters() const { return counters_; }
    std::size_t channel_count() const { return channels_.size(); }

    // Most messages one drain takes.
    static constexpr long long drain_batch = 10000;

private:
    friend class mailbox_channel;
    friend class mailbox_reader;
    struct drain_receipts;

    std::shared_ptr<mailbox_channel> channel_for(std::string_view identity);
    void forget(const std::string& key) { channels_.erase(key); }
    std::string doorbell_of(const std::string& key) const;
    // Receipts for a drain's messages: one per message, or one for all.
    // Those not written go back to the head of the list, in their order,
    // in one LPUSH once every receipt of the drain is settled.
    std::vector<feed::receipt> receipts_for(const std::string& key, const redis::reply& items,
                                            bool one_for_all);
    void put_back(const std::string& key, std::vector<std::string> messages);
    void ring_key(std::string_view key);
    void arm_tick();

    boost::asio::io_context& io() { return ioc_; }
    redis::command_connection& commands() { return commands_; }
    redis::subscriber_pool& subscribers() { return subscribers_; }
    const mailbox_mode_settings& settings() const { return settings_; }
    mailbox_counters& tally() { return counters_; }
    bool shutting_down() const { return shutting_down_; }

    boost::asio::io_context& ioc_;
    redis::command_connection& commands_;
    redis::subscriber_pool& subscribers_;
    mailbox_mode_settings settings_;
    mailbox_counters counters_;
    std::unordered_map<std::string, mailbox_channel*> channels_; // by key; each removes itself
    std::unique_ptr<notify_consumer> notify_;                    // when a notify list is set
    boost::asio::steady_timer tick_timer_;
    bool shutting_down_ = false;
    std::shared_ptr<mailbox_service*> self_; // receipts hold it weakly
};

} // namespace rpd::mailboxes
