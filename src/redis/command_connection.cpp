#include "redis_push/redis/command_connection.hpp"

#include <boost/asio/post.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <array>
#include <memory>

namespace rpd::redis {

namespace {
reply convert(const redisReply* r) {
    if (r == nullptr)
        return {reply::kind::unavailable, {}};
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        return {reply::kind::value, std::string_view(r->str, r->len)};
    case REDIS_REPLY_NIL:
        return {reply::kind::nil, {}};
    case REDIS_REPLY_INTEGER:
        return {reply::kind::integer, {}, r->integer};
    case REDIS_REPLY_ERROR:
        return {reply::kind::error, std::string_view(r->str, r->len)};
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

void command_connection::send(int argc, const char** argv, const size_t* lens,
                              std::unique_ptr<detail::pending_command> pending) {
    redisAsyncContext* ctx = connection_.context();
    if (ctx != nullptr && redisAsyncCommandArgv(ctx, &command_connection::on_reply, pending.get(),
                                                argc, argv, lens) == REDIS_OK) {
        pending.release(); // hiredis holds it until on_reply
        return;
    }
    boost::asio::post(ioc_, [p = std::move(pending)] { p->complete(reply{}); });
}

void command_connection::on_reply(redisAsyncContext* /*ctx*/, void* r, void* privdata) {
    std::unique_ptr<detail::pending_command> pending(
        static_cast<detail::pending_command*>(privdata));
    pending->complete(convert(static_cast<const redisReply*>(r)));
}

} // namespace rpd::redis
