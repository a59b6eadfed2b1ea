#include "redis_push/redis/command_connection.hpp"

#include <boost/asio/post.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <array>
#include <memory>

namespace rpd::redis {

namespace {
// Owned by hiredis between the command and its reply; hiredis calls every
// pending callback exactly once, with a null reply on teardown, so the
// callback is the single place that deletes it.
struct pending_command {
    reply_handler handler;
};

reply convert(const redisReply* r) {
    if (r == nullptr)
        return {reply::kind::unavailable, {}};
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        return {reply::kind::value, std::string(r->str, r->len)};
    case REDIS_REPLY_NIL:
        return {reply::kind::nil, {}};
    case REDIS_REPLY_INTEGER:
        return {reply::kind::integer, std::to_string(r->integer)};
    case REDIS_REPLY_ERROR:
        return {reply::kind::error, std::string(r->str, r->len)};
    default:
        return {reply::kind::error, "unexpected reply type"};
    }
}
} // namespace

command_connection::command_connection(boost::asio::io_context& ioc, endpoint ep)
    : ioc_(ioc), connection_(ioc, std::move(ep), "command", connection::probe_kind::ping, {},
                             connection::callbacks{[this] {
                                                       if (on_ready_)
                                                           on_ready_();
                                                   },
                                                   {}}) {}

void command_connection::get(std::string_view key, reply_handler handler) {
    std::array<const char*, 2> argv{"GET", key.data()};
    std::array<size_t, 2> lens{3, key.size()};
    send(2, argv.data(), lens.data(), std::move(handler));
}

void command_connection::publish(std::string_view channel, std::string_view message,
                                 reply_handler handler) {
    std::array<const char*, 3> argv{"PUBLISH", channel.data(), message.data()};
    std::array<size_t, 3> lens{7, channel.size(), message.size()};
    send(3, argv.data(), lens.data(), std::move(handler));
}

void command_connection::send(int argc, const char** argv, const size_t* lens,
                              reply_handler handler) {
    redisAsyncContext* ctx = connection_.context();
    if (ctx == nullptr) {
        if (handler)
            boost::asio::post(ioc_, [h = std::move(handler)] { h(reply{}); });
        return;
    }
    if (!handler) {
        redisAsyncCommandArgv(ctx, nullptr, nullptr, argc, argv, lens);
        return;
    }
    auto pending = std::make_unique<pending_command>(pending_command{std::move(handler)});
    if (redisAsyncCommandArgv(ctx, &command_connection::on_reply, pending.get(), argc, argv,
                              lens) == REDIS_OK) {
        pending.release();
    } else {
        boost::asio::post(ioc_, [h = std::move(pending->handler)] { h(reply{}); });
    }
}

void command_connection::on_reply(redisAsyncContext* /*ctx*/, void* r, void* privdata) {
    std::unique_ptr<pending_command> pending(static_cast<pending_command*>(privdata));
    pending->handler(convert(static_cast<const redisReply*>(r)));
}

} // namespace rpd::redis
