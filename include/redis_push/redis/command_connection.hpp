#pragma once

#include "redis_push/redis/argv.hpp"
#include "redis_push/redis/connection.hpp"
#include "redis_push/redis/reply.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace rpd::redis {

class command_connection;

namespace detail {
// One command waiting for its reply, with its handler stored inline: one
// allocation per command, owned by hiredis until the reply (or teardown,
// which hiredis also reports, with a null reply).
struct pending_command {
    virtual ~pending_command() = default;
    virtual void complete(const reply& r) = 0;
    class command_connection* owner = nullptr;
};

template <class Handler> struct pending_command_for final : pending_command {
    explicit pending_command_for(Handler h) : handler(std::move(h)) {}
    void complete(const reply& r) override { handler(r); }
    Handler handler;
};

template <class Handler> std::unique_ptr<pending_command> make_pending(Handler&& h) {
    return std::make_unique<pending_command_for<std::decay_t<Handler>>>(std::forward<Handler>(h));
}
} // namespace detail

// The single shared connection for every non-blocking command (GET,
// PUBLISH, and whatever command() is given). Commands are appended to
// hiredis' output buffer and flushed together when the socket becomes
// writable, so everything issued in one event-loop turn is one pipelined
// write, and many commands are in flight at once.
//
// Redis answers in order, so the oldest unanswered command is the one to
// time: when it has waited endpoint::command_timeout the connection is
// dropped, which answers every pending command with kind::unavailable
// (a poll then gets 503 instead of hanging on a stuck server).
class command_connection {
public:
    command_connection(boost::asio::io_context& ioc, endpoint ep);

    void start() { connection_.start(); }
    // Stops before the members go: stopping answers the pending commands,
    // and their bookkeeping (sent_) must still exist then.
    ~command_connection() { stop(); }
    command_connection(const command_connection&) = delete;
    command_connection& operator=(const command_connection&) = delete;

    void stop() {
        timeout_timer_.cancel();
        connection_.stop();
    }
    bool ready() const { return connection_.ready(); }
    std::uint64_t reconnects() const { return connection_.reconnects(); }

    // Called every time the connection (re)becomes ready.
    void on_ready(std::function<void()> fn) { on_ready_ = std::move(fn); }

    // Any command but the blocking ones (BLPOP, XREAD ... BLOCK) and those
    // that change the connection's mode (SUBSCRIBE, MONITOR): the commands
    // pipelined behind a blocking one would wait with it, and the oldest
    // one's timeout would drop the connection.
    //
    // Handlers take a `const reply&`. While the connection is down the
    // handler runs at once (posted, never inside the caller) with
    // kind::unavailable; an empty argv is answered the same way with
    // kind::error. `args` is copied into hiredis' output buffer during the
    // call.
    template <class Handler> void command(const argv& args, Handler&& handler) {
        send(args, detail::make_pending(std::forward<Handler>(handler)));
    }
    template <class Handler> void get(std::string_view key, Handler&& handler) {
        command(argv{"GET", key}, std::forward<Handler>(handler));
    }
    template <class Handler>
    void publish(std::string_view channel, std::string_view message, Handler&& handler) {
        command(argv{"PUBLISH", channel, message}, std::forward<Handler>(handler));
    }

private:
    void send(const argv& args, std::unique_ptr<detail::pending_command> pending);
    static void on_reply(struct redisAsyncContext* ctx, void* reply, void* privdata);
    using clock = std::chrono::steady_clock;

    void arm_timeout();
    void arm_timeout_at(clock::time_point when);
    void on_timeout_timer();

    boost::asio::io_context& ioc_;
    std::chrono::milliseconds command_timeout_;
    connection connection_;
    std::function<void()> on_ready_;
    std::deque<clock::time_point> sent_; // of each unanswered command, oldest first
    boost::asio::steady_timer timeout_timer_;
    bool timeout_armed_ = false;
};

} // namespace rpd::redis
