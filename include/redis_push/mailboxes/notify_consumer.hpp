#pragma once

#include "redis_push/redis/command_connection.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace rpd::mailboxes {

// redis-ws-alerts' doorbell (MODES.md 2): publishers RPUSH a mailbox's list
// name onto a well-known list; we BLPOP it on a connection of our own (a
// blocking command would stall everything pipelined behind it on the shared
// one), so that list never grows, and tell `ring` each name popped.
class notify_consumer {
public:
    notify_consumer(boost::asio::io_context& ioc, const redis::endpoint& ep, std::string list,
                    std::chrono::milliseconds block, std::function<void(std::string_view)> ring);

    // Stops first: the pop in flight is answered while we still exist.
    ~notify_consumer() { stop(); }
    notify_consumer(const notify_consumer&) = delete;
    notify_consumer& operator=(const notify_consumer&) = delete;

    void start();
    void stop();

private:
    void pop();
    void pop_later();

    redis::command_connection connection_;
    boost::asio::steady_timer retry_timer_;
    std::chrono::milliseconds block_;
    std::string list_;
    std::string block_seconds_; // BLPOP's time-out, e.g. "1" or "0.5"
    std::function<void(std::string_view)> ring_;
    bool stopped_ = false;
    bool popping_ = false;
};

} // namespace rpd::mailboxes
