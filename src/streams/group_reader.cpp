#include "redis_push/streams/group_reader.hpp"

#include "redis_push/redis/argv.hpp"
#include "redis_push/streams/stream_channel.hpp"
#include "redis_push/streams/stream_message.hpp"
#include "redis_push/streams/stream_service.hpp"

#include <boost/asio/post.hpp>

#include <utility>

namespace rpd::streams {

namespace {
using kind = redis::reply::kind;

bool no_group(const redis::reply& r) {
    return r.type == kind::error && r.value.starts_with("NOGROUP");
}
} // namespace

group_reader::group_reader(stream_service& service, std::shared_ptr<stream_channel> channel,
                           feed::sink& sink, group_options options)
    : service_(service), channel_(std::move(channel)), sink_(&sink), options_(std::move(options)) {
    ++service_.tally().subscribers;
}

group_reader::~group_reader() {
    --service_.tally().subscribers;
}

void group_reader::start() {
    if (service_.shutting_down())
        return boost::asio::post(service_.io(), [weak = weak_from_this()] {
            if (auto self = weak.lock())
                self->end(feed::end_reason::shutting_down);
        });
    if (options_.one_shot) {
        wait_timer_.emplace(service_.io());
        wait_timer_->expires_after(options_.wait);
        wait_timer_->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (!self || ec)
                return;
            self->wait_over_ = true;
            if (self->channel_hook.is_linked()) // waiting, no read in flight
                self->end(feed::end_reason::delivered);
        });
    }
    if (options_.pending)
        return read_pending();
    claim();
}

template <class Then> void group_reader::send(const redis::argv& args, Then then) {
    service_.commands().command(args, [weak = weak_from_this(), then](const redis::reply& r) {
        auto self = weak.lock();
        if (!self || self->sink_ == nullptr || self->fail_on(r))
            return;
        // Redis answered: established (a WebSocket subscription says
        // `subscribed` now).
        if (!std::exchange(self->opened_, true)) {
            self->sink_->opened();
            if (self->sink_ == nullptr)
                return;
        }
        (self.get()->*then)(r);
    });
}

bool group_reader::fail_on(const redis::reply& r) {
    if (r.type == kind::unavailable) {
        end(feed::end_reason::unavailable);
        return true;
    }
    if (r.type == kind::error && r.value.starts_with("WRONGTYPE")) {
        end(feed::end_reason::wrong_type);
        return true;
    }
    return false;
}

void group_reader::read_pending() {
    redis::argv args{"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT"};
    args.add_number(static_cast<long long>(options_.count)).add("STREAMS").add(channel_->key());
    args.add("0");
    send(args, &group_reader::on_read);
}

void group_reader::claim() {
    redis::argv args{"XAUTOCLAIM", channel_->key(), options_.group, options_.consumer};
    args.add_number(service_.settings().claim_idle.count()).add("0-0").add("COUNT");
    args.add_number(static_cast<long long>(options_.count));
    send(args, &group_reader::on_claim);
}

void group_reader::on_claim(const redis::reply& r) {
    if (no_group(r))
        return create_group();
    // [next cursor, entries, deleted ids]
    if (r.type == kind::array && r.size() >= 2 && r[1].type == kind::array && !r[1].empty()) {
        service_.tally().messages_claimed += r[1].size();
        return take(r[1]);
    }
    read_new();
}

void group_reader::read_new() {
    redis::argv args{"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT"};
    args.add_number(static_cast<long long>(options_.count)).add("STREAMS").add(channel_->key());
    args.add(">");
    send(args, &group_reader::on_read);
}

// XREADGROUP: [[key, entries]], or nil when there is nothing.
void group_reader::on_read(const redis::reply& r) {
    if (no_group(r)) {
        if (options_.pending) // no group: nothing is pending
            return end(feed::end_reason::delivered);
        return create_group();
    }
    if (r.type == kind::error)
        return end(feed::end_reason::unavailable);
    if (r.type == kind::array && !r.empty() && r[0].type == kind::array && r[0].size() == 2 &&
        !r[0][1].empty())
        return take(r[0][1]);
    if (options_.pending)
        return end(feed::end_reason::delivered);
    wait();
}

void group_reader::create_group() {
    if (std::exchange(created_group_, true))
        return end(feed::end_reason::unavailable); // created, and still NOGROUP: give up
    redis::argv args{
        "XGROUP",  "CREATE", channel_->key(), options_.group, options_.start_at_zero ? "0" : "$",
        "MKSTREAM"};
    // BUSYGROUP (another client made it meanwhile) is as good as OK.
    send(args, &group_reader::on_created);
}

void group_reader::on_created(const redis::reply&) {
    read_new();
}

void group_reader::take(const redis::reply& entries) {
    const auto keep = shared_from_this();
    std::size_t sent = 0;
    for (const auto e : entries) {
        if (sink_ == nullptr)
            break;
        if (const auto m = parse_entry(e)) {
            ++sent;
            sink_->event("message", m->json, m->offset);
        }
    }
    service_.tally().messages_delivered += sent;
    if (sink_ == nullptr)
        return;
    sink_->flush();
    if (options_.one_shot) {
        if (sent == 0 && !wait_over_)
            return read_new();
        end(feed::end_reason::delivered);
        // The next waiter of the group may find more.
        return channel_->ring();
    }
    read_new();
}

void group_reader::wait() {
    if (options_.one_shot && wait_over_)
        return end(feed::end_reason::delivered);
    channel_->add_waiter(*this);
}

void group_reader::wake() {
    claim();
}

void group_reader::end(feed::end_reason reason) {
    if (sink_ == nullptr)
        return;
    const auto keep = shared_from_this();
    auto* sink = std::exchange(sink_, nullptr);
    release();
    sink->ended(reason, {});
}

void group_reader::cancel() noexcept {
    sink_ = nullptr;
    release();
}

void group_reader::release() {
    channel_hook.unlink();
    if (wait_timer_)
        wait_timer_->cancel();
}

} // namespace rpd::streams
