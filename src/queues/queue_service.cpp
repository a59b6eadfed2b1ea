#include "redis_push/queues/queue_service.hpp"

#include "redis_push/queues/queue_channel.hpp"
#include "redis_push/queues/queue_scripts.hpp"
#include "redis_push/redis/argv.hpp"
#include "redis_push/redis/keyspace_events.hpp"
#include "redis_push/util/visit_held.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace rpd::queues {

namespace {
using kind = redis::reply::kind;

// Expired deliveries put back per queue and tick: bounds one script's run.
constexpr int expired_per_tick = 1000;
} // namespace

queue_service::queue_service(boost::asio::io_context& ioc, redis::command_connection& commands,
                             redis::subscriber_pool& subscribers, queue_mode_settings settings)
    : ioc_(ioc), commands_(commands), subscribers_(subscribers), settings_(std::move(settings)),
      tick_timer_(ioc), self_(std::make_shared<queue_service*>(this)) {}

queue_service::~queue_service() = default;

std::string queue_service::doorbell_of(std::string_view name) const {
    return redis::keyspace_channel(settings_.db, settings_.queue_key(name));
}

std::string queue_service::new_delivery_id() {
    return std::string(util::view(ids_.next()));
}

std::shared_ptr<queue_channel> queue_service::channel_for(std::string_view name) {
    const std::string key(name);
    if (const auto it = channels_.find(key); it != channels_.end())
        return it->second->shared_from_this();
    auto channel = std::make_shared<queue_channel>(*this, key);
    channels_.emplace(key, channel.get());
    channel->open();
    return channel;
}

feed::handle queue_service::take(std::string_view name, feed::sink& sink, take_options options) {
    auto w = std::make_shared<queue_waiter>(*this, channel_for(name), sink, options);
    w->start();
    return feed::handle(std::move(w));
}

// Acknowledged or not, a written message is delivered (an acknowledged
// one stays in flight until acked or expired); one not written goes back
// at once: to the head of the queue, or out of in-flight to the head.
feed::receipt queue_service::receipt_for(const std::string& name, std::string_view message,
                                         std::string_view delivery_id) {
    return feed::receipt::of([service = std::weak_ptr<queue_service*>(self_), name,
                              message = delivery_id.empty() ? std::string(message) : std::string(),
                              id = std::string(delivery_id)](bool written) {
        auto self = service.lock();
        if (!self)
            return;
        auto& me = **self;
        if (written)
            ++me.counters_.delivered;
        else if (id.empty())
            me.put_back(name, {message});
        else
            me.put_back_deliveries(name, {id});
    });
}

// LPUSH pushes its arguments one by one at the head: the last one ends
// first, so the messages go in reverse to keep their order.
void queue_service::put_back(const std::string& name, std::vector<std::string> messages) {
    redis::argv args{"LPUSH"};
    args.add_copy(settings_.queue_key(name));
    for (auto it = messages.rbegin(); it != messages.rend(); ++it)
        args.add_copy(*it);
    counters_.requeued += messages.size();
    commands_.command(args, [name, n = messages.size()](const redis::reply& r) {
        if (r.type != kind::integer)
            spdlog::error("queue {}: could not put back {} message(s) of clients that left: {}",
                          name, n, r.value);
    });
}

void queue_service::put_back_deliveries(const std::string& name,
                                        std::vector<std::string> delivery_ids) {
    redis::argv args{"EVAL"};
    args.add(scripts::put_back).add("4").add_copy(settings_.queue_key(name));
    args.add_copy(settings_.inflight_key(name)).add_copy(settings_.deliveries_key(name));
    args.add_copy(settings_.deadlines_key(name));
    for (const auto& id : delivery_ids)
        args.add_copy(id);
    // Not the messages themselves: a failure here leaves them in flight,
    // and the visibility time-out puts them back.
    commands_.command(args,
                      [service = std::weak_ptr<queue_service*>(self_)](const redis::reply& r) {
                          if (auto self = service.lock(); self && r.type == kind::integer)
                              (*self)->counters_.requeued += static_cast<std::uint64_t>(r.integer);
                      });
}

void queue_service::publish(std::string_view name, std::string_view message,
                            std::function<void(const result&)> done) {
    redis::argv args{"RPUSH"};
    args.add_copy(settings_.queue_key(name)).add(message);
    commands_.command(args, [done = std::move(done)](const redis::reply& r) {
        if (r.type == kind::integer)
            return done({outcome::done, r.integer});
        done({redis::is_wrong_type(r) ? outcome::wrong_type : outcome::unavailable, 0});
    });
}

void queue_service::length(std::string_view name, std::function<void(const result&)> done) {
    redis::argv args{"LLEN"};
    args.add_copy(settings_.queue_key(name));
    commands_.command(args, [done = std::move(done)](const redis::reply& r) {
        if (r.type == kind::integer)
            return done({outcome::done, r.integer});
        done({redis::is_wrong_type(r) ? outcome::wrong_type : outcome::unavailable, 0});
    });
}

void queue_service::ack(std::string_view name, std::string_view delivery_id,
                        std::function<void(const result&)> done) {
    redis::argv args{"EVAL"};
    args.add(scripts::ack).add("3").add_copy(settings_.inflight_key(name));
    args.add_copy(settings_.deliveries_key(name)).add_copy(settings_.deadlines_key(name));
    args.add(delivery_id);
    commands_.command(args, [done = std::move(done)](const redis::reply& r) {
        if (r.type == kind::integer)
            return done({r.integer == 1 ? outcome::done : outcome::not_found, r.integer});
        done({redis::is_wrong_type(r) ? outcome::wrong_type : outcome::unavailable, 0});
    });
}

void queue_service::start() {
    arm_tick();
}

void queue_service::arm_tick() {
    if (shutting_down_)
        return;
    tick_timer_.expires_after(settings_.recheck);
    tick_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;
        tick();
        arm_tick();
    });
}

// Notifications are fire-and-forget: a queue with waiters is taken from at
// least every recheck interval whatever arrived (MODES.md 0).
void queue_service::tick() {
    const auto now = std::chrono::steady_clock::now();
    util::visit_held(channels_, [&](queue_channel& c) { c.recheck(now, settings_.recheck); });
    put_back_expired();
}

// Any daemon may put back any expired delivery: the registry names the
// queues with deliveries in flight, and the script is atomic, so each
// expired delivery goes back once, by whichever daemon comes first.
void queue_service::put_back_expired() {
    if (sweeping_ || !commands_.ready())
        return;
    sweeping_ = true;
    commands_.command(
        redis::argv{"SMEMBERS"}.add_copy(settings_.registry_key()),
        [service = std::weak_ptr<queue_service*>(self_)](const redis::reply& r) {
            auto self = service.lock();
            if (!self)
                return;
            auto& me = **self;
            me.sweeping_ = false;
            if (r.type != kind::array)
                return;
            for (const auto name_reply : r) {
                const std::string name(name_reply.value);
                const auto& s = me.settings_;
                redis::argv args{"EVAL"};
                args.add(scripts::put_back_expired).add("5").add_copy(s.queue_key(name));
                args.add_copy(s.inflight_key(name)).add_copy(s.deliveries_key(name));
                args.add_copy(s.deadlines_key(name)).add_copy(s.registry_key()).add_copy(name);
                args.add_number(expired_per_tick);
                me.commands_.command(args, [service](const redis::reply& n) {
                    if (auto self = service.lock();
                        self && n.type == kind::integer && n.integer > 0)
                        (*self)->counters_.requeued += static_cast<std::uint64_t>(n.integer);
                });
            }
        });
}

void queue_service::recheck_all() {
    util::visit_held(channels_, [](queue_channel& c) { c.ring(); });
}

void queue_service::shutdown() {
    shutting_down_ = true;
    tick_timer_.cancel();
    util::visit_held(channels_,
                     [](queue_channel& c) { c.end_all(feed::end_reason::shutting_down); });
}

} // namespace rpd::queues
