#include "redis_push/redis/command_connection.hpp"

#include <boost/asio/post.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <memory>

namespace rpd::redis {

namespace {
constexpr std::chrono::milliseconds recheck_delay{20};
} // namespace

command_connection::command_connection(boost::asio::io_context& ioc, endpoint ep)
    : ioc_(ioc), command_timeout_(ep.command_timeout),
      connection_(ioc, std::move(ep), "command", std::make_unique<ping_probe>(),
                  connection::callbacks{[this] {
                                            if (on_ready_)
                                                on_ready_();
                                        },
                                        [this] { sent_.clear(); }}),
      timeout_timer_(ioc) {}

void command_connection::send(const argv& args, std::unique_ptr<detail::pending_command> pending) {
    // Redis would take "*0" as nothing to answer, and the handler would wait
    // for ever.
    if (args.empty()) {
        boost::asio::post(ioc_, [p = std::move(pending)] {
            reply r;
            r.type = reply::kind::error;
            r.value = "empty command";
            p->complete(r);
        });
        return;
    }
    redisAsyncContext* ctx = connection_.context();
    pending->owner = this;
    if (ctx != nullptr &&
        async_command(ctx, &command_connection::on_reply, pending.get(), args) == REDIS_OK) {
        pending.release(); // hiredis holds it until on_reply
        sent_.push_back(clock::now());
        if (!timeout_armed_)
            arm_timeout();
        return;
    }
    boost::asio::post(ioc_, [p = std::move(pending)] { p->complete(reply{}); });
}

void command_connection::on_reply(redisAsyncContext* /*ctx*/, void* r, void* privdata) {
    std::unique_ptr<detail::pending_command> pending(
        static_cast<detail::pending_command*>(privdata));
    auto& sent = pending->owner->sent_;
    if (!sent.empty())
        sent.pop_front();
    pending->complete(reply(static_cast<const redisReply*>(r)));
}

// One timer for all commands, moved only when it fires: a busy connection
// arms it about once per timeout, not once per command.
void command_connection::arm_timeout() {
    arm_timeout_at(sent_.front() + command_timeout_);
}

void command_connection::arm_timeout_at(clock::time_point when) {
    timeout_armed_ = true;
    timeout_timer_.expires_at(when);
    timeout_timer_.async_wait([this](const boost::system::error_code& ec) {
        timeout_armed_ = false;
        if (!ec)
            on_timeout_timer();
    });
}

void command_connection::on_timeout_timer() {
    if (sent_.empty())
        return;
    const auto waited = clock::now() - sent_.front();
    if (waited < command_timeout_)
        return arm_timeout();
    // After a stall of our own (the machine was busy, the process stopped)
    // the answers may be waiting in the socket while this timer happens to
    // run before the read handler: Redis did answer, so look again shortly.
    if (connection_.input_pending())
        return arm_timeout_at(clock::now() + recheck_delay);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(waited).count();
    // Answers every pending command (sent_ empties with them), then retries.
    connection_.force_reconnect("a command unanswered for " + std::to_string(ms) + " ms");
}

} // namespace rpd::redis
