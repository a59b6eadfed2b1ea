#include "redis_push/streams/stream_subscriber.hpp"

#include "redis_push/redis/argv.hpp"
#include "redis_push/streams/stream_channel.hpp"
#include "redis_push/streams/stream_info.hpp"
#include "redis_push/streams/stream_service.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <utility>

namespace rpd::streams {

stream_subscriber::stream_subscriber(stream_service& service,
                                     std::shared_ptr<stream_channel> channel, feed::sink& sink,
                                     subscribe_options options)
    : service_(service), channel_(std::move(channel)), sink_(&sink), options_(options) {
    ++service_.tally().subscribers;
}

stream_subscriber::~stream_subscriber() {
    --service_.tally().subscribers;
}

void stream_subscriber::start() {
    channel_->add(*this);
    if (service_.shutting_down())
        return boost::asio::post(service_.io(), [weak = weak_from_this()] {
            if (auto self = weak.lock())
                self->end(feed::end_reason::shutting_down);
        });
    if (options_.one_shot)
        arm_wait();
    // One command answers both `$` (the last id) and the gap question.
    service_.commands().command(redis::argv{"XINFO", "STREAM", channel_->key()},
                                [weak = weak_from_this()](const redis::reply& r) {
                                    if (auto self = weak.lock())
                                        self->on_info(r);
                                });
}

// Redis down: unavailable; a key of another type: wrong_type. A missing
// key is no failure (XINFO says "no such key"): the stream is empty.
bool stream_subscriber::fail_on(const redis::reply& r) {
    using kind = redis::reply::kind;
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

void stream_subscriber::on_info(const redis::reply& r) {
    if (state_ != state::resolving || fail_on(r))
        return;
    stream_info info;
    if (r.type == redis::reply::kind::array) {
        if (const auto parsed = parse_stream_info(r))
            info = *parsed;
    } else if (r.type == redis::reply::kind::error && !r.value.starts_with("ERR no such key")) {
        return end(feed::end_reason::unavailable);
    }
    const auto keep = shared_from_this();
    // Established: an event stream commits to its 200 here; a failure
    // before this point is answered with its own status.
    sink_->opened();
    if (sink_ == nullptr)
        return;
    if (options_.from.latest) {
        cursor_ = info.last_generated;
        sink_->position(cursor_.text());
        if (sink_ != nullptr)
            go_live();
        return;
    }
    cursor_ = options_.from.id;
    sink_->position(cursor_.text());
    gap_pending_ = is_gap(cursor_, info);
    if (sink_ != nullptr)
        replay();
}

void stream_subscriber::replay() {
    state_ = state::replaying;
    std::size_t page = service_.settings().read_batch;
    if (options_.one_shot)
        page = std::min(page, options_.max_messages - delivered_);
    redis::argv args{"XRANGE", channel_->key()};
    args.add_copy("(" + cursor_.text())
        .add("+")
        .add("COUNT")
        .add_number(static_cast<long long>(page));
    service_.commands().command(args, [weak = weak_from_this(), page](const redis::reply& r) {
        auto self = weak.lock();
        if (!self || self->state_ != state::replaying || self->fail_on(r))
            return;
        if (r.type != redis::reply::kind::array)
            return self->end(feed::end_reason::unavailable);
        const auto entries = parse_entries(r);
        if (self->gap_pending_ && !entries.empty()) {
            self->gap_pending_ = false;
            self->sink_->gap(entries.front().offset);
        }
        if (self->sink_ != nullptr && !entries.empty())
            self->deliver(entries);
        if (self->sink_ == nullptr || self->state_ != state::replaying)
            return;
        if (r.size() >= page)
            return self->replay();
        self->go_live();
    });
}

void stream_subscriber::go_live() {
    // A long-poll whose time ran out during the replay answers with nothing
    // (`?timeout=0`: after one look).
    if (options_.one_shot && wait_over_)
        return end(feed::end_reason::delivered);
    state_ = state::live;
    channel_->went_live(cursor_);
}

void stream_subscriber::deliver(const message_batch& batch) {
    if (sink_ == nullptr)
        return;
    const auto keep = shared_from_this();
    // Entries are in id order: skip those the cursor has passed.
    auto it = std::upper_bound(batch.begin(), batch.end(), cursor_,
                               [](const stream_id& c, const message& m) { return c < m.id; });
    std::size_t sent = 0;
    for (; it != batch.end() && sink_ != nullptr; ++it) {
        if (options_.one_shot && delivered_ >= options_.max_messages)
            break;
        cursor_ = it->id;
        ++delivered_;
        ++sent;
        sink_->event("message", it->json, it->offset);
    }
    service_.tally().messages_delivered += sent;
    if (sink_ == nullptr || sent == 0)
        return;
    sink_->flush();
    if (options_.one_shot && sink_ != nullptr)
        end(feed::end_reason::delivered);
}

void stream_subscriber::arm_wait() {
    wait_timer_.emplace(service_.io());
    wait_timer_->expires_after(options_.wait);
    wait_timer_->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!self || ec)
            return;
        self->wait_over_ = true;
        // Still resolving or replaying: what that finds is the answer.
        if (self->state_ == state::live)
            self->end(feed::end_reason::delivered);
    });
}

void stream_subscriber::end(feed::end_reason reason) {
    if (sink_ == nullptr)
        return;
    const auto keep = shared_from_this();
    auto* sink = std::exchange(sink_, nullptr);
    state_ = state::ended;
    release();
    sink->ended(reason, {});
}

void stream_subscriber::cancel() noexcept {
    sink_ = nullptr;
    state_ = state::ended;
    release();
}

void stream_subscriber::release() {
    channel_hook.unlink();
    if (wait_timer_)
        wait_timer_->cancel();
}

} // namespace rpd::streams
