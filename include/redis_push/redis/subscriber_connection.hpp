#pragma once

#include "redis_push/redis/connection.hpp"
#include "redis_push/redis/subscription.hpp"
#include "redis_push/redis/subscription_set.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

struct redisReply;
struct redisAsyncContext;

namespace rpd::redis {

// One pub/sub connection multiplexing many channels. Local listeners of a
// channel share one Redis subscription (subscription_set does the
// bookkeeping); after a reconnect every channel is subscribed again and its
// listeners hear on_subscribed() anew.
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
    // Told after every (re)connect, once the channels are re-requested.
    void on_ready(std::function<void()> hook) { ready_hook_ = std::move(hook); }

private:
    friend class subscription;
    void remove(channel_entry& entry, channel_listener& listener);
    void schedule_flush();
    void arm_linger_sweep(std::chrono::milliseconds delay);
    void sweep_lingering();
    void flush();
    void send(const subscription_set::batch& b);
    void send_command(std::string_view command, const std::vector<std::string>& names);
    void handle_ready();
    void on_lost();
    void on_reply(const redisReply* reply);
    static void on_reply_cb(redisAsyncContext* ctx, void* reply, void* privdata);
    template <class Fn> static void for_each_listener(channel_entry& entry, Fn fn);

    boost::asio::io_context& ioc_;
    connection connection_;
    subscription_set channels_;
    std::function<void()> ready_hook_;
    boost::asio::steady_timer linger_timer_;
    bool linger_armed_ = false;
    bool flush_scheduled_ = false;
    std::uint64_t messages_ = 0;
};

} // namespace rpd::redis
