#pragma once

#include "redis_push/redis/backoff.hpp"
#include "redis_push/redis/health_probe.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>

struct redisAsyncContext;

namespace rpd::redis {

struct endpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string unix_socket; // wins over host/port when set
    std::string username;
    std::string password;
    std::uint32_t db = 0;
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds health_interval{1000};
    // A health probe (or, on the command connection, any command) left
    // unanswered this long means Redis is stuck: reconnect.
    std::chrono::milliseconds command_timeout{2000};
};

// One Redis connection that keeps itself alive: connect with a deadline,
// AUTH/SELECT/PING (ready only once Redis has answered), a periodic health
// probe whose late answer forces a reconnect, and capped exponential backoff
// with jitter after any loss. The owner sends its own commands through
// context() while ready() and is told about transitions through the two
// callbacks. hiredis frees a context on its own after a disconnect, so
// context() is only valid while ready().
class connection {
public:
    struct callbacks {
        std::function<void()> on_ready;
        std::function<void()> on_lost; // only after on_ready
    };

    // `probe` (not null) fits the connection's mode: ping_probe for
    // commands, resubscribe_probe for pub/sub, no_probe for blocking reads.
    connection(boost::asio::io_context& ioc, endpoint ep, std::string role,
               std::unique_ptr<health_probe> probe, callbacks cb);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    void start();
    // Closes for good; pending commands are answered with a null reply.
    void stop();

    bool ready() const { return state_ == state::ready; }
    redisAsyncContext* context() const { return ready() ? context_ : nullptr; }
    const std::string& role() const { return role_; }
    std::uint64_t reconnects() const { return reconnects_; }

    // Whether Redis has sent bytes we have not read yet (the socket's
    // receive queue is not empty).
    bool input_pending() const;

    // Drops the connection (and reconnects after backoff), e.g. after a
    // protocol-level failure noticed by the owner.
    void force_reconnect(const std::string& reason);

private:
    enum class state { idle, connecting, setting_up, ready, waiting_retry, stopped };

    void connect_now();
    void free_context();
    void begin_setup();
    void on_setup_reply(bool ok, const std::string& what);
    void become_ready();
    void schedule_retry();
    void handle_loss(const std::string& reason);
    void arm_health_timer();
    void on_health_tick();
    bool send_probe();
    std::string describe() const;

    static void on_connect(const redisAsyncContext* ctx, int status);
    static void on_disconnect(const redisAsyncContext* ctx, int status);
    static void on_setup_reply_cb(redisAsyncContext* ctx, void* reply, void* privdata);
    static void on_probe_reply_cb(redisAsyncContext* ctx, void* reply, void* privdata);

    boost::asio::io_context& ioc_;
    endpoint endpoint_;
    std::string role_;
    std::unique_ptr<health_probe> probe_;
    callbacks callbacks_;

    state state_ = state::idle;
    redisAsyncContext* context_ = nullptr;
    bool freeing_ = false; // we are inside our own redisAsyncFree
    int setup_replies_pending_ = 0;
    bool probe_outstanding_ = false;
    std::chrono::steady_clock::time_point probe_sent_;
    boost::asio::steady_timer deadline_timer_; // connect deadline, then retry delay
    boost::asio::steady_timer health_timer_;
    backoff backoff_;
    std::minstd_rand random_;
    std::uint64_t reconnects_ = 0;
    bool was_ever_ready_ = false;
};

} // namespace rpd::redis
