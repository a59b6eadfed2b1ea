#pragma once

#include "redis_push/redis/argv.hpp"

#include <string>

struct redisAsyncContext;

namespace rpd::redis {

// How a connection tells a live Redis from a stuck one between its own
// commands: connection sends a probe every health interval and reconnects
// when its answer is later than endpoint::command_timeout.
class health_probe {
public:
    virtual ~health_probe() = default;
    // Sends one probe on `ctx`; hiredis hands its answer to `on_answer` with
    // `privdata`. True when an answer is now awaited, even if hiredis refused
    // the command: an unsent probe is an unanswered one, and its deadline
    // then re-makes the connection. False when this probe never sends
    // anything, so there is nothing to wait for and no point in asking again.
    virtual bool send(redisAsyncContext* ctx, reply_callback on_answer, void* privdata) = 0;
};

// PING, for a connection in normal mode.
class ping_probe final : public health_probe {
public:
    bool send(redisAsyncContext* ctx, reply_callback on_answer, void* privdata) override;
};

// A re-SUBSCRIBE of a private channel, for a connection in subscribed mode:
// hiredis 0.14 cannot route a PING reply there and would leak its callback.
// The first probe is also what puts hiredis into subscribed mode.
class resubscribe_probe final : public health_probe {
public:
    explicit resubscribe_probe(std::string channel);
    bool send(redisAsyncContext* ctx, reply_callback on_answer, void* privdata) override;

private:
    std::string channel_;
};

// No probe, for a connection that runs a blocking command (BLPOP,
// XREADGROUP ... BLOCK): a probe would wait behind that command and look
// unanswered; the blocking command's own timeout shows that Redis is alive.
class no_probe final : public health_probe {
public:
    bool send(redisAsyncContext* ctx, reply_callback on_answer, void* privdata) override;
};

} // namespace rpd::redis
