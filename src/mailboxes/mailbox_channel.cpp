#include "redis_push/mailboxes/mailbox_channel.hpp"

#include "redis_push/mailboxes/mailbox_service.hpp"
#include "redis_push/redis/argv.hpp"
#include "redis_push/redis/keyspace_events.hpp"

namespace rpd::mailboxes {

namespace {
using kind = redis::reply::kind;
} // namespace

mailbox_channel::mailbox_channel(mailbox_service& service, std::string key)
    : service_(service), key_(std::move(key)) {}

mailbox_channel::~mailbox_channel() {
    service_.forget(key_);
}

void mailbox_channel::open() {
    doorbell_ = service_.subscribers().subscribe(service_.doorbell_of(key_), *this);
}

void mailbox_channel::add(mailbox_reader& r) {
    if (!r.is_socket())
        return line_.push_back(r);
    const auto keep = shared_from_this();
    if (auto* older = std::exchange(socket_, &r))
        older->end(feed::end_reason::killed); // replaced; its socket stays open
}

void mailbox_channel::left(mailbox_reader& r) {
    if (socket_ == &r)
        socket_ = nullptr;
    r.channel_hook.unlink();
}

void mailbox_channel::on_message(std::string_view event) {
    if (!redis::removes_only(event))
        ring();
}

mailbox_reader* mailbox_channel::next_reader() {
    if (socket_ != nullptr)
        return socket_;
    return line_.empty() ? nullptr : &line_.front();
}

void mailbox_channel::ring() {
    if (next_reader() == nullptr)
        return;
    if (draining_) {
        rang_ = true;
        return;
    }
    drain();
}

void mailbox_channel::recheck(std::chrono::steady_clock::time_point now,
                              std::chrono::steady_clock::duration quiet) {
    if (!draining_ && next_reader() != nullptr && now - last_drain_ >= quiet)
        drain();
}

void mailbox_channel::drain() {
    draining_ = true;
    rang_ = false;
    last_drain_ = std::chrono::steady_clock::now();
    ++service_.tally().drains;
    redis::argv args{"LPOP", key_};
    args.add_number(mailbox_service::drain_batch);
    // Held until the reply: what it took must reach a reader or go back,
    // even when every reader left meanwhile.
    service_.commands().command(
        args, [self = shared_from_this()](const redis::reply& r) { self->on_drained(r); });
}

void mailbox_channel::on_drained(const redis::reply& r) {
    const auto keep = shared_from_this();
    draining_ = false;
    if (redis::is_wrong_type(r))
        return end_all(feed::end_reason::wrong_type);
    if (r.type != kind::array || r.empty()) {
        // Nothing there: a long-poll that asked for no wait has its answer.
        // Redis failing: one whose first look this was learns it now; the
        // others keep waiting (the reconnect drains again).
        const bool down = r.type != kind::array && r.type != kind::nil;
        for (auto it = line_.begin(); it != line_.end();) {
            auto& reader = *it++;
            if (down && !reader.tried())
                reader.end(feed::end_reason::unavailable);
            else if (!down && reader.once())
                reader.end(feed::end_reason::expired);
            else if (!down)
                reader.mark_tried();
        }
        if (rang_)
            ring();
        return;
    }
    // Whoever is first now gets them: the one the drain was for, or, if it
    // left meanwhile, the next reader; with nobody left they go back.
    auto* reader = next_reader();
    if (reader == nullptr) {
        std::vector<std::string> back;
        for (const auto item : r)
            back.emplace_back(item.value);
        service_.put_back(key_, std::move(back));
    } else {
        const auto hold = reader->shared_from_this();
        reader->deliver(r, service_.receipts_for(key_, r, !reader->is_socket()));
    }
    if (rang_ || static_cast<long long>(r.size()) == mailbox_service::drain_batch)
        ring();
}

void mailbox_channel::end_all(feed::end_reason reason) {
    const auto keep = shared_from_this();
    if (socket_ != nullptr)
        socket_->end(reason);
    for (auto it = line_.begin(); it != line_.end();) {
        auto& reader = *it++;
        reader.end(reason);
    }
}

} // namespace rpd::mailboxes
