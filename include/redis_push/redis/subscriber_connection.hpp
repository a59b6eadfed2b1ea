#pragma once

#include "redis_push/redis/connection.hpp"
#include "redis_push/redis/subscription.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct redisReply;
struct redisAsyncContext;

namespace rpd::redis {

struct channel_entry {
    enum class server_state { none, requested, confirmed };
    const std::string* name = nullptr; // the map key, stable for the entry's life
    server_state server = server_state::none;
    bool queued = false; // in the next SUBSCRIBE/UNSUBSCRIBE batch
    std::vector<channel_listener*> listeners;
};

// One pub/sub connection multiplexing many channels. Local listeners of a
// channel share one Redis subscription. Changes are queued and sent as one
// SUBSCRIBE and one UNSUBSCRIBE per event-loop turn; after a reconnect every
// channel is subscribed again and its listeners hear on_subscribed() anew.
class subscriber_connection {
public:
    subscriber_connection(boost::asio::io_context& ioc, endpoint ep, std::string probe_channel);
    ~subscriber_connection();

    void start() { connection_.start(); }
    void stop();
    bool ready() const { return connection_.ready(); }
    std::uint64_t reconnects() const { return connection_.reconnects(); }
    std::size_t channel_count() const { return channels_.size(); }
    std::uint64_t messages_received() const { return messages_; }

    subscription subscribe(std::string_view channel, channel_listener& listener);

private:
    friend class subscription;
    void remove(channel_entry* entry, channel_listener* listener);
    void enqueue(channel_entry* entry);
    void schedule_flush();
    void flush();
    void send_batch(const char* command, std::vector<const std::string*>& names);
    void on_ready();
    void on_lost();
    void on_reply(const redisReply* reply);
    static void on_reply_cb(redisAsyncContext* ctx, void* reply, void* privdata);
    static void notify_subscribed(channel_entry& entry);

    struct name_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    boost::asio::io_context& ioc_;
    connection connection_;
    std::unordered_map<std::string, channel_entry, name_hash, std::equal_to<>> channels_;
    std::vector<channel_entry*> queue_;
    bool flush_scheduled_ = false;
    std::uint64_t messages_ = 0;
};

} // namespace rpd::redis
