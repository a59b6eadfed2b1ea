#include "redis_push/tasks/watch.hpp"

#include "redis_push/redis/command_connection.hpp"
#include "redis_push/tasks/message.hpp"
#include "redis_push/tasks/task_service.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace rpd::tasks {

watch::watch(task_service& service, std::string_view id, feed::sink& sink, watch_options options)
    : service_(service), sink_(&sink), channel_(service.channel(id)),
      id_offset_(channel_.size() - id.size()), uuid_(service.new_uuid()), options_(options) {}

watch::~watch() = default; // the subscription share and the hook let go by themselves

void watch::start() {
    service_.track(*this);
    auto& redis_pool = service_.subscribers();
    if (service_.shutting_down() || !service_.commands().ready() ||
        !redis_pool.ready_for(channel_)) {
        // Answer at once rather than hang until Redis returns; posted so the
        // sink never hears back from inside its own call.
        const auto result = service_.shutting_down() ? feed::end_reason::shutting_down
                                                     : feed::end_reason::unavailable;
        boost::asio::post(service_.io(), [weak = weak_from_this(), result] {
            if (auto self = weak.lock())
                self->finish(result);
        });
        return;
    }
    subscription_ = redis_pool.subscribe(channel_, *this);
    if (subscription_.confirmed()) // another local watcher shares the channel
        on_subscribed();
}

void watch::on_subscribed() {
    switch (phase_) {
    case phase::subscribing:
        phase_ = phase::reading;
        read(read_purpose::initial);
        break;
    case phase::announcing:
    case phase::waiting:
        // Resubscribed after a reconnect: messages (our own kill's echo
        // among them) may be lost, and the task may have finished meanwhile.
        killable_ = true;
        recheck();
        break;
    default:
        break;
    }
}

void watch::recheck() {
    if (phase_ == phase::waiting)
        read(update_unread_ ? read_purpose::after_update : read_purpose::after_reconnect,
             unread_update_done_);
}

void watch::on_message(std::string_view payload) {
    if (phase_ == phase::subscribing || phase_ == phase::finished)
        return;
    const auto m = classify_message(payload);
    switch (m.type) {
    case channel_message::kind::kill:
        if (m.has_src && m.src == util::view(uuid_))
            killable_ = true;
        else if (killable_)
            finish(feed::end_reason::killed);
        break;
    case channel_message::kind::ignore: {
        // A message can be megabytes: its start is enough to recognise it.
        constexpr std::size_t shown = 200;
        spdlog::debug("ignoring message on {} ({} bytes): {}{}", channel_, payload.size(),
                      payload.substr(0, shown), payload.size() > shown ? "..." : "");
        break;
    }
    default:
        if (phase_ == phase::waiting)
            handle_update(m, payload);
        else // applied once established
            early_message_.emplace(payload);
        break;
    }
}

void watch::handle_update(const channel_message& m, std::string_view payload) {
    if (m.type == channel_message::kind::deliver)
        deliver(m.done, payload);
    else
        read(read_purpose::after_update, m.done);
}

// A new state of the task: the answer of a one-shot watch; an event of a
// following one, the last when it is "done".
void watch::deliver(bool done, std::string_view value) {
    if (!options_.follow)
        return finish(feed::end_reason::delivered, value);
    auto self = shared_from_this(); // the sink may cancel us from inside
    sink_->event(done ? "done" : "update", value);
    if (done)
        finish(feed::end_reason::delivered);
}

void watch::read(read_purpose purpose, bool done_message) {
    service_.commands().get(
        service_.data_key(std::string_view(channel_).substr(id_offset_)),
        [weak = weak_from_this(), purpose, done_message](const redis::reply& r) {
            if (auto self = weak.lock())
                self->on_read(purpose, done_message, r);
        });
}

void watch::on_read(read_purpose purpose, bool done_message, const redis::reply& r) {
    using kind = redis::reply::kind;
    if (purpose == read_purpose::initial) {
        if (phase_ != phase::reading)
            return;
        if (r.type == kind::nil)
            return finish(feed::end_reason::not_found);
        if (r.type != kind::value)
            return finish(feed::end_reason::unavailable);
        const auto info = inspect_value(r.value);
        if (!info.valid_json)
            return finish(feed::end_reason::invalid_json);
        if (info.done)
            return finish(feed::end_reason::found, r.value);
        if (options_.follow)
            first_value_.assign(r.value);
        return announce();
    }
    if (phase_ != phase::waiting)
        return;
    if (r.type == kind::unavailable) {
        // Waiting watches stay open while Redis is away; the command
        // connection's return triggers recheck(), which reads again.
        if (purpose == read_purpose::after_update) {
            update_unread_ = true;
            unread_update_done_ = done_message;
        }
        return;
    }
    update_unread_ = false;
    if (purpose == read_purpose::after_reconnect) {
        // Only a finished task ends the watch; anything else keeps waiting.
        if (r.type == kind::value && inspect_value(r.value).done)
            deliver(true, r.value);
        return;
    }
    // After an update the value is the answer as it is, like a poll's: it
    // was valid JSON when the watch started, and a status of 200 is sent.
    if (r.type == kind::nil)
        return finish(feed::end_reason::not_found);
    if (r.type != kind::value)
        return finish(feed::end_reason::unavailable);
    deliver(done_message, r.value);
}

// The kill goes out first and the client sees the head only once Redis
// has taken it: whatever the client (or anyone it tells) publishes next is
// ordered after our kill.
void watch::announce() {
    phase_ = phase::announcing;
    service_.commands().publish(channel_, kill_message(util::view(uuid_)),
                                [weak = weak_from_this()](const redis::reply& r) {
                                    if (auto self = weak.lock())
                                        self->on_announced(r);
                                });
}

void watch::on_announced(const redis::reply& r) {
    if (phase_ != phase::announcing)
        return;
    if (r.type != redis::reply::kind::integer)
        killable_ = true; // not published: no echo will come
    phase_ = phase::waiting;
    arm_timeout();
    // The sink may cancel us from inside (shutdown racing): keep alive.
    auto self = shared_from_this();
    sink_->opened();
    if (options_.follow && phase_ == phase::waiting) {
        const std::string first = std::move(first_value_);
        first_value_ = {};
        sink_->event("update", first);
    }
    if (early_message_ && phase_ == phase::waiting) {
        const std::string payload = std::move(*early_message_);
        early_message_.reset();
        handle_update(classify_message(payload), payload);
    }
}

void watch::arm_timeout() {
    const auto limit = service_.settings().watch_timeout;
    if (limit.count() == 0)
        return;
    timeout_timer_.emplace(service_.io());
    timeout_timer_->expires_after(limit);
    timeout_timer_->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        if (ec)
            return;
        if (auto self = weak.lock())
            self->finish(feed::end_reason::timed_out);
    });
}

void watch::cancel() noexcept {
    release();
    sink_ = nullptr;
}

// Everything a watch holds goes at once: its subscription share, its
// timer and its place in the service's list.
void watch::release() {
    phase_ = phase::finished;
    subscription_.reset();
    if (timeout_timer_)
        timeout_timer_->cancel();
    registry_hook.unlink();
}

void watch::finish(feed::end_reason reason, std::string_view value) {
    if (phase_ == phase::finished)
        return;
    // The sink's owner usually drops its handle on us: stay alive until done.
    auto self = shared_from_this();
    release();
    if (sink_ != nullptr)
        sink_->ended(reason, value);
}

} // namespace rpd::tasks
