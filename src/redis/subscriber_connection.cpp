#include "redis_push/redis/subscriber_connection.hpp"

#include "redis_push/redis/argv.hpp"

#include <boost/asio/post.hpp>
#include <boost/container/small_vector.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>

namespace rpd::redis {

namespace {
// Redis accepts far more, but one huge command would delay every other
// reply on the connection while the server works through it.
constexpr std::size_t max_channels_per_command = 1024;
// How long a channel stays subscribed after its last watch ended.
constexpr auto unsubscribe_linger = std::chrono::milliseconds(1000);
// Expired channels are unsubscribed in small slices, often: one big
// UNSUBSCRIBE (and its thousands of replies) would stall the deliveries of
// that moment for milliseconds.
constexpr auto linger_sweep_interval = std::chrono::milliseconds(100);
constexpr std::size_t max_unsubscribes_per_sweep = 256;

std::string_view text_of(const redisReply* r) {
    if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS))
        return {};
    return {r->str, r->len};
}
} // namespace

// ---- subscription ---------------------------------------------------------

subscription::subscription(subscription&& other) noexcept
    : owner_(other.owner_), entry_(other.entry_), listener_(other.listener_) {
    other.owner_ = nullptr;
}

subscription& subscription::operator=(subscription&& other) noexcept {
    if (this != &other) {
        reset();
        owner_ = other.owner_;
        entry_ = other.entry_;
        listener_ = other.listener_;
        other.owner_ = nullptr;
    }
    return *this;
}

void subscription::reset() {
    if (owner_ == nullptr)
        return;
    auto* owner = owner_;
    owner_ = nullptr;
    owner->remove(*entry_, *listener_);
}

bool subscription::confirmed() const {
    return owner_ != nullptr && owner_->ready() &&
           entry_->server == channel_entry::server_state::confirmed;
}

// ---- subscriber_connection ------------------------------------------------

subscriber_connection::subscriber_connection(boost::asio::io_context& ioc, endpoint ep,
                                             std::string probe_channel)
    : ioc_(ioc),
      connection_(ioc, std::move(ep), "subscriber",
                  std::make_unique<resubscribe_probe>(std::move(probe_channel)),
                  connection::callbacks{[this] { handle_ready(); }, [this] { on_lost(); }}),
      linger_timer_(ioc) {}

subscriber_connection::~subscriber_connection() {
    stop();
}

void subscriber_connection::stop() {
    linger_timer_.cancel();
    connection_.stop();
}

subscription subscriber_connection::subscribe(std::string_view channel,
                                              channel_listener& listener) {
    channel_entry& entry = channels_.add(channel, listener);
    schedule_flush();
    return subscription(this, &entry, &listener);
}

void subscriber_connection::remove(channel_entry& entry, channel_listener& listener) {
    channels_.remove(entry, listener);
    schedule_flush();
    arm_linger_sweep(linger_sweep_interval);
}

// Sweeps run only while the connection is up: a lost connection's
// lingering channels are dropped by resubscribe_all() when it comes back,
// and a stopped one must leave no timer behind (or the event loop, and so
// the shutdown, would never end).
void subscriber_connection::arm_linger_sweep(std::chrono::milliseconds delay) {
    if (linger_armed_ || !channels_.has_lingering() || !connection_.ready())
        return;
    linger_armed_ = true;
    linger_timer_.expires_after(delay);
    linger_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;
        linger_armed_ = false;
        sweep_lingering();
    });
}

void subscriber_connection::sweep_lingering() {
    if (!connection_.ready())
        return;
    auto expired = channels_.take_expired(subscription_set::clock::now() - unsubscribe_linger,
                                          max_unsubscribes_per_sweep);
    // A full slice means a backlog (thousands of new task ids a second):
    // the next slice goes out after what is queued now, not 100 ms later,
    // or lingering channels (and their memory) pile up faster than they go.
    const bool backlog = expired.unsubscribe.size() == max_unsubscribes_per_sweep;
    send(std::move(expired));
    arm_linger_sweep(backlog ? std::chrono::milliseconds(0) : linger_sweep_interval);
}

// Changes made during one event-loop turn go out together in the next.
void subscriber_connection::schedule_flush() {
    if (flush_scheduled_ || !channels_.has_queued() || !connection_.ready())
        return;
    flush_scheduled_ = true;
    boost::asio::post(ioc_, [this] {
        flush_scheduled_ = false;
        flush();
    });
}

void subscriber_connection::flush() {
    if (connection_.ready()) // otherwise handle_ready() subscribes what is still wanted
        send(channels_.take_batch());
}

void subscriber_connection::send(const subscription_set::batch& b) {
    send_command("UNSUBSCRIBE", b.unsubscribe);
    send_command("SUBSCRIBE", b.subscribe);
}

void subscriber_connection::send_command(std::string_view command,
                                         const std::vector<std::string>& names) {
    argv args;
    for (std::size_t start = 0; start < names.size(); start += max_channels_per_command) {
        const std::size_t end = std::min(names.size(), start + max_channels_per_command);
        args.clear();
        args.add(command);
        for (std::size_t i = start; i < end; ++i)
            args.add(names[i]);
        async_command(connection_.context(), &subscriber_connection::on_reply_cb, this, args);
    }
}

void subscriber_connection::handle_ready() {
    send(channels_.resubscribe_all());
    if (ready_hook_)
        ready_hook_();
}

void subscriber_connection::on_lost() {
    channels_.connection_lost();
}

void subscriber_connection::on_reply_cb(redisAsyncContext* /*ctx*/, void* reply, void* privdata) {
    // A null reply comes once per channel while hiredis tears a context down;
    // the loss itself is reported through the connection's on_lost.
    if (reply != nullptr)
        static_cast<subscriber_connection*>(privdata)->on_reply(static_cast<redisReply*>(reply));
}

// A listener may end its watch, and so drop its share, while we iterate:
// walk a copy and skip whoever left meanwhile.
template <class Fn> void subscriber_connection::for_each_listener(channel_entry& entry, Fn fn) {
    boost::container::small_vector<channel_listener*, 4> snapshot(entry.listeners.begin(),
                                                                  entry.listeners.end());
    for (channel_listener* l : snapshot)
        if (std::find(entry.listeners.begin(), entry.listeners.end(), l) != entry.listeners.end())
            fn(*l);
}

void subscriber_connection::on_reply(const redisReply* r) {
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3)
        return;
    const std::string_view kind = text_of(r->element[0]);
    const std::string_view channel = text_of(r->element[1]);
    if (kind == "message") {
        ++messages_;
        if (channel_entry* entry = channels_.find(channel)) {
            const std::string_view payload = text_of(r->element[2]);
            for_each_listener(*entry, [payload](channel_listener& l) { l.on_message(payload); });
        }
    } else if (kind == "subscribe") {
        if (channel_entry* entry = channels_.confirm(channel))
            for_each_listener(*entry, [](channel_listener& l) { l.on_subscribed(); });
    }
}

} // namespace rpd::redis
