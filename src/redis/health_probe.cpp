#include "redis_push/redis/health_probe.hpp"

#include <hiredis/async.h>

#include <utility>

namespace rpd::redis {

bool ping_probe::send(redisAsyncContext* ctx, reply_callback on_answer, void* privdata) {
    redisAsyncCommand(ctx, on_answer, privdata, "PING");
    return true;
}

resubscribe_probe::resubscribe_probe(std::string channel) : channel_(std::move(channel)) {}

bool resubscribe_probe::send(redisAsyncContext* ctx, reply_callback on_answer, void* privdata) {
    async_command(ctx, on_answer, privdata, argv{"SUBSCRIBE", channel_});
    return true;
}

bool no_probe::send(redisAsyncContext* /*ctx*/, reply_callback /*on_answer*/, void* /*privdata*/) {
    return false;
}

} // namespace rpd::redis
