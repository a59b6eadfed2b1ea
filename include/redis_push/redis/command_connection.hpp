#pragma once

#include "redis_push/redis/connection.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace rpd::redis {

// The result of one command, detached from hiredis' reply structs.
struct reply {
    enum class kind {
        value,      // a bulk string (value holds it)
        nil,        // the key does not exist
        integer,    // e.g. PUBLISH's receiver count (value holds the digits)
        error,      // Redis answered with an error (value holds the text)
        unavailable // not sent, or the connection was lost before the answer
    };
    kind type = kind::unavailable;
    std::string value;
};

using reply_handler = std::function<void(reply)>;

// The single shared connection for GET and PUBLISH. Commands are appended
// to hiredis' output buffer and flushed together when the socket becomes
// writable, so everything issued in one event-loop turn is one pipelined
// write, and many commands are in flight at once.
class command_connection {
public:
    command_connection(boost::asio::io_context& ioc, endpoint ep);

    void start() { connection_.start(); }
    void stop() { connection_.stop(); }
    bool ready() const { return connection_.ready(); }
    std::uint64_t reconnects() const { return connection_.reconnects(); }

    // Called every time the connection (re)becomes ready.
    void on_ready(std::function<void()> fn) { on_ready_ = std::move(fn); }

    // While the connection is down the handler runs at once (posted, never
    // inside the caller) with kind::unavailable.
    void get(std::string_view key, reply_handler handler);
    void publish(std::string_view channel, std::string_view message, reply_handler handler = {});

private:
    void send(int argc, const char** argv, const size_t* lens, reply_handler handler);
    static void on_reply(struct redisAsyncContext* ctx, void* reply, void* privdata);

    boost::asio::io_context& ioc_;
    connection connection_;
    std::function<void()> on_ready_;
};

} // namespace rpd::redis
