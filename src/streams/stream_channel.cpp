#include "redis_push/streams/stream_channel.hpp"

#include "redis_push/redis/argv.hpp"
#include "redis_push/streams/stream_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace rpd::streams {

stream_channel::stream_channel(stream_service& service, std::string key)
    : service_(service), key_(std::move(key)) {}

stream_channel::~stream_channel() {
    service_.forget(key_);
}

void stream_channel::open() {
    doorbell_ = service_.subscribers().subscribe(service_.doorbell_of(key_), *this);
}

void stream_channel::add(stream_subscriber& s) {
    subscribers_.push_back(s);
}

void stream_channel::add_waiter(group_reader& g) {
    waiters_.push_back(g);
}

void stream_channel::went_live(const stream_id& cursor) {
    // The shared reads start where the first live cursor stands. A later
    // subscriber's replay ran up to the stream's end, so wherever the
    // shared reads stand is no later than its cursor, or what lies between
    // was read after its replay and reaches it (it is live by then).
    if (!read_from_)
        read_from_ = cursor;
    // An entry added after its last read may have rung before it was live.
    ring();
}

bool stream_channel::any_live() const {
    for (const auto& s : subscribers_)
        if (s.live())
            return true;
    return false;
}

void stream_channel::ring() {
    wake_waiters();
    if (!read_from_ || !any_live())
        return;
    if (reading_) {
        rang_ = true;
        return;
    }
    read();
}

bool stream_channel::due_for_recheck(std::chrono::steady_clock::time_point now) const {
    return !reading_ && read_from_ && now - last_read_ >= service_.settings().recheck && any_live();
}

void stream_channel::begin_shared_read() {
    reading_ = true;
    rang_ = false;
    last_read_ = std::chrono::steady_clock::now();
    ++service_.tally().shared_reads;
}

void stream_channel::end_batched_read(const redis::reply* entries) {
    reading_ = false;
    if (entries != nullptr)
        return take(*entries);
    if (rang_)
        ring();
}

void stream_channel::end_batched_read_failed() {
    // One key of the batch may be of another type (XREAD then fails as a
    // whole): read this one alone, which tells.
    reading_ = false;
    ring();
}

void stream_channel::read() {
    begin_shared_read();
    const std::string start = "(" + read_from_->text();
    redis::argv args{"XRANGE", key_, start, "+", "COUNT"};
    args.add_number(service_.settings().read_batch);
    service_.commands().command(args, [weak = weak_from_this()](const redis::reply& r) {
        if (auto self = weak.lock())
            self->on_read(r);
    });
}

void stream_channel::on_read(const redis::reply& r) {
    reading_ = false;
    using kind = redis::reply::kind;
    if (r.type == kind::error && r.value.starts_with("WRONGTYPE"))
        return end_all(feed::end_reason::wrong_type);
    // Down or failing: the reconnect's re-check (or the periodic one) reads again.
    if (r.type != kind::array)
        return;
    take(r);
}

void stream_channel::take(const redis::reply& r) {
    auto batch = std::make_shared<message_batch>(parse_entries(r));
    const bool full = r.size() >= service_.settings().read_batch;
    if (!batch->empty()) {
        read_from_ = batch->back().id;
        fan_out(batch);
    }
    if (full || rang_)
        ring();
}

// A subscriber whose sink fails (a slow client dropped) may leave the list
// while we are in it: step past it first, and keep ourselves alive.
void stream_channel::fan_out(const shared_batch& batch) {
    const auto keep = shared_from_this();
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
        auto& s = *it++;
        if (s.live())
            s.deliver(*batch);
    }
}

void stream_channel::wake_waiters() {
    if (waiters_.empty())
        return;
    const auto keep = shared_from_this();
    // The oldest waiter of each group reads; if it gets messages it rings
    // again and the next one reads.
    std::vector<std::string_view> woken;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
        auto& g = *it++;
        if (std::find(woken.begin(), woken.end(), g.group()) != woken.end())
            continue;
        woken.push_back(g.group());
        g.channel_hook.unlink();
        g.wake();
    }
}

void stream_channel::end_all(feed::end_reason reason) {
    const auto keep = shared_from_this();
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
        auto& s = *it++;
        s.end(reason);
    }
    for (auto it = waiters_.begin(); it != waiters_.end();) {
        auto& g = *it++;
        g.end(reason);
    }
}

} // namespace rpd::streams
