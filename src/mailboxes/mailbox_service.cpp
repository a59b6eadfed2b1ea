#include "redis_push/mailboxes/mailbox_service.hpp"

#include "redis_push/mailboxes/mailbox_channel.hpp"
#include "redis_push/redis/argv.hpp"
#include "redis_push/redis/keyspace_events.hpp"
#include "redis_push/util/visit_held.hpp"

#include <spdlog/spdlog.h>

namespace rpd::mailboxes {

namespace {
using kind = redis::reply::kind;
} // namespace

// The messages of one drain while their receipts are out: those whose
// frame or body was not written go back together, in order, once the last
// receipt is settled (one LPUSH keeps their order; one each would not).
struct mailbox_service::drain_receipts {
    std::weak_ptr<mailbox_service*> service;
    std::string key;
    std::vector<std::string> messages;
    std::vector<bool> unwritten;
    std::size_t unsettled = 0;

    void settle(std::size_t first, std::size_t count, bool written) {
        for (std::size_t i = first; i < first + count; ++i)
            unwritten[i] = !written;
        unsettled -= count;
        if (unsettled > 0)
            return;
        auto self = service.lock();
        if (!self)
            return;
        std::vector<std::string> back;
        std::size_t delivered = 0;
        for (std::size_t i = 0; i < messages.size(); ++i) {
            if (unwritten[i])
                back.push_back(std::move(messages[i]));
            else
                ++delivered;
        }
        (*self)->counters_.delivered += delivered;
        if (!back.empty())
            (*self)->put_back(key, std::move(back));
    }
};

mailbox_service::mailbox_service(boost::asio::io_context& ioc, redis::command_connection& commands,
                                 redis::subscriber_pool& subscribers,
                                 const redis::endpoint& redis_endpoint,
                                 mailbox_mode_settings settings)
    : ioc_(ioc), commands_(commands), subscribers_(subscribers), settings_(std::move(settings)),
      tick_timer_(ioc), self_(std::make_shared<mailbox_service*>(this)) {
    if (!settings_.notify_list.empty())
        notify_ = std::make_unique<notify_consumer>(
            ioc, redis_endpoint, settings_.notify_list, settings_.notify_block,
            [this](std::string_view list) { ring_key(list); });
}

mailbox_service::~mailbox_service() = default;

std::string mailbox_service::doorbell_of(const std::string& key) const {
    return redis::keyspace_channel(settings_.db, key);
}

std::shared_ptr<mailbox_channel> mailbox_service::channel_for(std::string_view identity) {
    std::string key = settings_.key_prefix;
    key.append(identity);
    if (const auto it = channels_.find(key); it != channels_.end())
        return it->second->shared_from_this();
    auto channel = std::make_shared<mailbox_channel>(*this, key);
    channels_.emplace(std::move(key), channel.get());
    channel->open();
    return channel;
}

feed::handle mailbox_service::wait(std::string_view identity, feed::sink& sink,
                                   std::chrono::milliseconds wait) {
    auto r = std::make_shared<mailbox_reader>(*this, channel_for(identity), sink,
                                              mailbox_reader::kind::poll, wait);
    r->start();
    return feed::handle(std::move(r));
}

feed::handle mailbox_service::identify(std::string_view identity, feed::sink& sink) {
    auto r = std::make_shared<mailbox_reader>(*this, channel_for(identity), sink,
                                              mailbox_reader::kind::socket,
                                              std::chrono::milliseconds(0));
    r->start();
    return feed::handle(std::move(r));
}

std::vector<feed::receipt>
mailbox_service::receipts_for(const std::string& key, const redis::reply& items, bool one_for_all) {
    auto batch = std::make_shared<drain_receipts>();
    batch->service = self_;
    batch->key = key;
    for (const auto item : items)
        batch->messages.emplace_back(item.value);
    batch->unwritten.assign(batch->messages.size(), true);
    batch->unsettled = batch->messages.size();
    std::vector<feed::receipt> out;
    if (one_for_all) {
        out.push_back(feed::receipt::of(
            [batch, n = batch->messages.size()](bool written) { batch->settle(0, n, written); }));
        return out;
    }
    out.reserve(batch->messages.size());
    for (std::size_t i = 0; i < batch->messages.size(); ++i)
        out.push_back(
            feed::receipt::of([batch, i](bool written) { batch->settle(i, 1, written); }));
    return out;
}

// LPUSH pushes its arguments one by one at the head: the last one ends
// first, so the messages go in reverse to keep their order.
void mailbox_service::put_back(const std::string& key, std::vector<std::string> messages) {
    redis::argv args{"LPUSH", key};
    for (auto it = messages.rbegin(); it != messages.rend(); ++it)
        args.add(*it);
    counters_.requeued += messages.size();
    commands_.command(args, [key, n = messages.size()](const redis::reply& r) {
        if (r.type != kind::integer)
            spdlog::error("mailbox {}: could not put back {} message(s) of a client that left: {}",
                          key, n, r.value);
    });
}

void mailbox_service::length(std::string_view identity,
                             std::function<void(std::optional<long long>)> done) {
    std::string key = settings_.key_prefix;
    key.append(identity);
    commands_.command(redis::argv{"LLEN", key}, [done = std::move(done)](const redis::reply& r) {
        if (r.type == kind::integer)
            return done(r.integer);
        if (redis::is_wrong_type(r))
            return done(-1);
        done(std::nullopt);
    });
}

void mailbox_service::ring_key(std::string_view key) {
    if (const auto it = channels_.find(std::string(key)); it != channels_.end())
        it->second->ring();
}

void mailbox_service::start() {
    if (notify_)
        notify_->start();
    arm_tick();
}

// Notifications are fire-and-forget: a mailbox with readers is looked at
// at least every recheck interval whatever arrived (MODES.md 0).
void mailbox_service::arm_tick() {
    if (shutting_down_)
        return;
    tick_timer_.expires_after(settings_.recheck);
    tick_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;
        const auto now = std::chrono::steady_clock::now();
        util::visit_held(channels_, [&](mailbox_channel& c) { c.recheck(now, settings_.recheck); });
        arm_tick();
    });
}

void mailbox_service::recheck_all() {
    util::visit_held(channels_, [](mailbox_channel& c) { c.ring(); });
}

void mailbox_service::shutdown() {
    shutting_down_ = true;
    tick_timer_.cancel();
    if (notify_)
        notify_->stop();
    util::visit_held(channels_,
                     [](mailbox_channel& c) { c.end_all(feed::end_reason::shutting_down); });
}

} // namespace rpd::mailboxes
