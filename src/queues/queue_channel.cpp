#include "redis_push/queues/queue_channel.hpp"

#include "redis_push/queues/queue_scripts.hpp"
#include "redis_push/queues/queue_service.hpp"
#include "redis_push/redis/argv.hpp"
#include "redis_push/redis/keyspace_events.hpp"

#include <algorithm>

namespace rpd::queues {

namespace {
using kind = redis::reply::kind;

// At most this many waiters share one take: bounds a reply, and a line of
// 100,000 waiters on one queue is served a thousand at a time.
constexpr std::size_t max_round = 1000;

} // namespace

queue_channel::queue_channel(queue_service& service, std::string name)
    : service_(service), name_(std::move(name)), key_(service.settings().queue_key(name_)) {}

queue_channel::~queue_channel() {
    service_.forget(name_);
}

void queue_channel::open() {
    doorbell_ = service_.subscribers().subscribe(service_.doorbell_of(name_), *this);
}

void queue_channel::on_message(std::string_view event) {
    if (!redis::removes_only(event))
        ring();
}

void queue_channel::ring() {
    if (line_.empty())
        return;
    if (taking_) {
        rang_ = true;
        return;
    }
    take_round();
}

void queue_channel::recheck(std::chrono::steady_clock::time_point now,
                            std::chrono::steady_clock::duration quiet) {
    if (!taking_ && !line_.empty() && now - last_round_ >= quiet)
        take_round();
}

void queue_channel::take_round() {
    taking_ = true;
    rang_ = false;
    last_round_ = std::chrono::steady_clock::now();
    ++service_.tally().rounds;
    bool any_acknowledged = false;
    round_.clear();
    while (!line_.empty() && round_.size() < max_round) {
        auto& w = line_.front();
        line_.pop_front();
        round_member m{w.weak_from_this(), {}};
        if (w.acknowledged()) {
            m.delivery_id = service_.new_delivery_id();
            any_acknowledged = true;
        }
        round_.push_back(std::move(m));
    }
    const auto& s = service_.settings();
    redis::argv args;
    if (!any_acknowledged) {
        args.add("LPOP").add(key_).add_number(static_cast<long long>(round_.size()));
    } else {
        args.add("EVAL").add(scripts::take).add("5").add(key_);
        args.add_copy(s.inflight_key(name_)).add_copy(s.deliveries_key(name_));
        args.add_copy(s.deadlines_key(name_)).add_copy(s.registry_key());
        args.add_number(
            std::chrono::duration_cast<std::chrono::milliseconds>(s.visibility).count());
        args.add(name_);
        for (const auto& m : round_)
            args.add(m.delivery_id);
    }
    // Held until the reply: the messages it brings must reach a waiter or go
    // back, even when every waiter of the round left meanwhile.
    service_.commands().command(
        args, [self = shared_from_this()](const redis::reply& r) { self->on_taken(r); });
}

void queue_channel::on_taken(const redis::reply& r) {
    const auto keep = shared_from_this(); // a waiter served may be our last owner
    taking_ = false;
    std::vector<round_member> round = std::move(round_);
    round_.clear();
    if (redis::is_wrong_type(r)) {
        for (auto& m : round)
            if (auto w = m.waiter.lock())
                w->end(feed::end_reason::wrong_type);
        return end_all(feed::end_reason::wrong_type);
    }
    if (r.type != kind::array && r.type != kind::nil) {
        // Down or failing: a waiter whose first take this was learns it now;
        // the others keep waiting (the reconnect or the re-check tries again).
        for (auto& m : round)
            if (auto w = m.waiter.lock(); w && w->waiting() && !w->tried())
                w->end(feed::end_reason::unavailable);
        return requeue_unserved(round, 0);
    }
    const std::size_t taken = r.type == kind::array ? std::min(r.size(), round.size()) : 0;
    std::vector<std::string> orphans;    // plain messages of waiters that left
    std::vector<std::string> orphan_ids; // deliveries of waiters that left
    for (std::size_t i = 0; i < taken; ++i) {
        const auto message = r[i].value;
        auto& m = round[i];
        auto w = m.waiter.lock();
        if (w && w->waiting()) {
            w->deliver(message, m.delivery_id, service_.receipt_for(name_, message, m.delivery_id));
            continue;
        }
        if (m.delivery_id.empty())
            orphans.emplace_back(message);
        else
            orphan_ids.push_back(std::move(m.delivery_id));
    }
    requeue_unserved(round, taken);
    give_back(std::move(orphans), std::move(orphan_ids));
    // A full round may have left more messages for the rest of the line.
    if (rang_ || (taken > 0 && taken == round.size()))
        ring();
}

void queue_channel::requeue_unserved(std::vector<round_member>& round, std::size_t served) {
    std::vector<std::shared_ptr<queue_waiter>> back;
    for (std::size_t i = served; i < round.size(); ++i) {
        auto w = round[i].waiter.lock();
        if (!w || !w->waiting())
            continue;
        if (w->once())
            w->end(feed::end_reason::expired);
        else
            back.push_back(std::move(w));
    }
    // In front of whoever joined during the round, in their old order.
    for (auto it = back.rbegin(); it != back.rend(); ++it) {
        (*it)->mark_tried();
        line_.push_front(**it);
    }
}

void queue_channel::give_back(std::vector<std::string> plain,
                              std::vector<std::string> delivery_ids) {
    if (!plain.empty())
        service_.put_back(name_, std::move(plain));
    if (!delivery_ids.empty())
        service_.put_back_deliveries(name_, std::move(delivery_ids));
}

void queue_channel::end_all(feed::end_reason reason) {
    const auto keep = shared_from_this();
    for (auto it = line_.begin(); it != line_.end();) {
        auto& w = *it++;
        w.end(reason);
    }
}

} // namespace rpd::queues
