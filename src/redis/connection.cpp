#include "redis_push/redis/connection.hpp"

#include "redis_push/redis/argv.hpp"
#include "redis_push/redis/asio_adapter.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <sys/ioctl.h>

namespace rpd::redis {

namespace {
constexpr backoff::duration backoff_initial{100};
constexpr backoff::duration backoff_cap{5000};

std::string error_text(const redisAsyncContext* ctx) {
    if (ctx != nullptr && ctx->errstr != nullptr && ctx->errstr[0] != '\0')
        return ctx->errstr;
    return "connection closed";
}
} // namespace

connection::connection(boost::asio::io_context& ioc, endpoint ep, std::string role,
                       std::unique_ptr<health_probe> probe, callbacks cb)
    : ioc_(ioc), endpoint_(std::move(ep)), role_(std::move(role)), probe_(std::move(probe)),
      callbacks_(std::move(cb)), deadline_timer_(ioc), health_timer_(ioc),
      backoff_(backoff_initial, backoff_cap),
      random_(static_cast<unsigned>(std::random_device{}())) {}

connection::~connection() {
    stop();
}

std::string connection::describe() const {
    if (!endpoint_.unix_socket.empty())
        return endpoint_.unix_socket;
    return endpoint_.host + ":" + std::to_string(endpoint_.port);
}

void connection::start() {
    if (state_ == state::idle)
        connect_now();
}

void connection::stop() {
    if (state_ == state::stopped)
        return;
    state_ = state::stopped;
    deadline_timer_.cancel();
    health_timer_.cancel();
    free_context();
}

// Lets go of the context first, so that the callbacks redisAsyncFree runs
// (a null reply for every pending command, synchronously, then
// on_disconnect) see it as no longer ours.
void connection::free_context() {
    if (context_ == nullptr)
        return;
    auto* ctx = context_;
    context_ = nullptr;
    redisAsyncFree(ctx);
}

void connection::connect_now() {
    state_ = state::connecting;
    redisAsyncContext* ctx = endpoint_.unix_socket.empty()
                                 ? redisAsyncConnect(endpoint_.host.c_str(), endpoint_.port)
                                 : redisAsyncConnectUnix(endpoint_.unix_socket.c_str());
    if (ctx == nullptr || ctx->err != 0) {
        const std::string why = ctx != nullptr ? error_text(ctx) : "out of memory";
        if (ctx != nullptr)
            redisAsyncFree(ctx);
        handle_loss("cannot connect to " + describe() + ": " + why);
        return;
    }
    ctx->data = this;
    asio_adapter::attach(ioc_, ctx);
    redisAsyncSetConnectCallback(ctx, &connection::on_connect);
    redisAsyncSetDisconnectCallback(ctx, &connection::on_disconnect);
    context_ = ctx;

    // One deadline covers TCP connect, AUTH and SELECT: hiredis 0.14 has no
    // connect timeout of its own in async mode.
    deadline_timer_.expires_after(endpoint_.connect_timeout);
    deadline_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;
        if (state_ == state::connecting || state_ == state::setting_up)
            force_reconnect("no connection within " +
                            std::to_string(endpoint_.connect_timeout.count()) + " ms");
    });
}

void connection::on_connect(const redisAsyncContext* ctx, int status) {
    auto* self = static_cast<connection*>(ctx->data);
    if (self == nullptr || self->context_ != ctx)
        return;
    if (status != REDIS_OK) {
        // hiredis frees the context itself right after this callback.
        self->context_ = nullptr;
        self->handle_loss("cannot connect to " + self->describe() + ": " + error_text(ctx));
        return;
    }
    self->begin_setup();
}

void connection::on_disconnect(const redisAsyncContext* ctx, int /*status*/) {
    auto* self = static_cast<connection*>(ctx->data);
    // A context we already let go of (force_reconnect, stop) reports here
    // from inside redisAsyncFree: that loss is handled by whoever freed it.
    if (self == nullptr || self->context_ != ctx)
        return;
    self->context_ = nullptr;
    self->handle_loss("connection to " + self->describe() + " lost: " + error_text(ctx));
}

void connection::begin_setup() {
    state_ = state::setting_up;
    setup_replies_pending_ = 0;
    if (!endpoint_.password.empty()) {
        argv auth{"AUTH"};
        if (!endpoint_.username.empty())
            auth.add(endpoint_.username);
        auth.add(endpoint_.password);
        async_command(context_, &connection::on_setup_reply_cb, this, auth);
        ++setup_replies_pending_;
    }
    if (endpoint_.db != 0) {
        async_command(context_, &connection::on_setup_reply_cb, this,
                      argv{"SELECT"}.add_number(endpoint_.db));
        ++setup_replies_pending_;
    }
    // A PING last: a connection counts as up only once Redis has answered
    // on it. A server that accepts but never answers (stopped, DEBUG SLEEP)
    // or answers with an error (maxclients, NOAUTH) is not up.
    redisAsyncCommand(context_, &connection::on_setup_reply_cb, this, "PING");
    ++setup_replies_pending_;
}

void connection::on_setup_reply_cb(redisAsyncContext* ctx, void* reply, void* privdata) {
    auto* self = static_cast<connection*>(privdata);
    if (self->context_ != ctx || reply == nullptr)
        return;
    const auto* r = static_cast<const redisReply*>(reply);
    if (r->type == REDIS_REPLY_ERROR)
        self->on_setup_reply(false, std::string(r->str, r->len));
    else
        self->on_setup_reply(true, {});
}

void connection::on_setup_reply(bool ok, const std::string& what) {
    if (state_ != state::setting_up)
        return;
    if (!ok) {
        spdlog::error("redis {}: {} refused the connection: {}", role_, describe(), what);
        force_reconnect("setup refused");
        return;
    }
    if (--setup_replies_pending_ == 0)
        become_ready();
}

void connection::become_ready() {
    state_ = state::ready;
    deadline_timer_.cancel();
    backoff_.reset();
    if (was_ever_ready_)
        ++reconnects_;
    was_ever_ready_ = true;
    spdlog::info("redis {}: connected to {}", role_, describe());
    // Probe at once: for subscribers this also puts hiredis into subscribed
    // mode before any task channel is (un)subscribed.
    if (send_probe())
        arm_health_timer();
    if (callbacks_.on_ready)
        callbacks_.on_ready();
}

bool connection::input_pending() const {
    if (context_ == nullptr)
        return false;
    int unread = 0;
    return ::ioctl(context_->c.fd, FIONREAD, &unread) == 0 && unread > 0;
}

void connection::force_reconnect(const std::string& reason) {
    if (state_ == state::stopped)
        return;
    free_context();
    handle_loss(reason);
}

void connection::handle_loss(const std::string& reason) {
    if (state_ == state::stopped || state_ == state::waiting_retry)
        return;
    const bool was_ready = state_ == state::ready;
    health_timer_.cancel();
    probe_outstanding_ = false;
    if (was_ready)
        spdlog::warn("redis {}: {}", role_, reason);
    else
        spdlog::warn("redis {}: {} (retrying)", role_, reason);
    schedule_retry();
    if (was_ready && callbacks_.on_lost)
        callbacks_.on_lost();
}

void connection::schedule_retry() {
    state_ = state::waiting_retry;
    const auto delay = backoff_.next(std::uniform_real_distribution<double>(0.0, 1.0)(random_));
    spdlog::debug("redis {}: reconnecting in {} ms", role_, delay.count());
    deadline_timer_.expires_after(delay);
    deadline_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;
        if (state_ == state::waiting_retry)
            connect_now();
    });
}

void connection::arm_health_timer() {
    health_timer_.expires_after(endpoint_.health_interval);
    health_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;
        on_health_tick();
    });
}

void connection::on_health_tick() {
    if (state_ != state::ready)
        return;
    if (probe_outstanding_) {
        const auto waited = std::chrono::steady_clock::now() - probe_sent_;
        if (waited >= endpoint_.command_timeout) {
            force_reconnect(
                "health check unanswered for " +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()) +
                " ms");
            return;
        }
    } else {
        send_probe();
    }
    arm_health_timer();
}

// Whether a probe now waits for its answer (no_probe never sends one).
bool connection::send_probe() {
    if (!probe_->send(context_, &connection::on_probe_reply_cb, this))
        return false;
    probe_outstanding_ = true;
    probe_sent_ = std::chrono::steady_clock::now();
    return true;
}

void connection::on_probe_reply_cb(redisAsyncContext* ctx, void* reply, void* privdata) {
    auto* self = static_cast<connection*>(privdata);
    if (self->context_ != ctx || reply == nullptr)
        return;
    self->probe_outstanding_ = false;
}

} // namespace rpd::redis
