#include "redis_push/tasks/watch.hpp"

#include "redis_push/redis/command_connection.hpp"
#include "redis_push/tasks/message.hpp"
#include "redis_push/tasks/task_service.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <utility>

namespace rpd::tasks {

namespace {
watch_machine::read_result summary(const redis::reply& r) {
    using kind = watch_machine::read_result::kind;
    switch (r.type) {
    case redis::reply::kind::value:
        return {kind::value, r.value};
    case redis::reply::kind::nil:
        return {kind::nil, {}};
    case redis::reply::kind::unavailable:
        return {kind::unavailable, {}};
    default:
        return {kind::error, r.value};
    }
}
} // namespace

watch::watch(task_service& service, std::string_view id, feed::sink& sink, watch_options options)
    : service_(service), sink_(&sink), channel_(service.channel(id)),
      id_offset_(channel_.size() - id.size()), uuid_(service.new_uuid()),
      machine_(options.follow, util::view(uuid_)) {}

watch::~watch() = default; // the subscription share and the hook let go by themselves

void watch::start() {
    const bool ready = service_.commands().ready() && service_.subscribers().ready_for(channel_);
    const action first = machine_.start(ready, service_.shutting_down());
    if (first.type == action::kind::finish) {
        // Posted: the sink never hears back from inside start_watch.
        boost::asio::post(service_.io(), [weak = weak_from_this(), reason = first.reason] {
            if (auto self = weak.lock(); self && self->sink_)
                std::exchange(self->sink_, nullptr)->ended(reason, {});
        });
        return;
    }
    service_.track(*this);
    run(first);
}

void watch::on_subscribed() {
    run(machine_.subscribed());
}

void watch::on_message(std::string_view payload) {
    run(machine_.message(payload));
}

void watch::recheck() {
    run(machine_.recheck());
}

void watch::shut_down() {
    run(machine_.shutdown());
}

void watch::run(action a) {
    if (!a)
        return;
    // A sink call may drop the handle that owns us: stay alive until done.
    const auto self = shared_from_this();
    while (a)
        a = perform(a);
}

watch::action watch::perform(const action& a) {
    switch (a.type) {
    case action::kind::subscribe:
        subscription_ = service_.subscribers().subscribe(channel_, *this);
        if (subscription_.confirmed()) // another local watcher shares the channel
            return machine_.subscribed();
        break;
    case action::kind::read:
        read(a.purpose);
        break;
    case action::kind::publish_kill:
        publish_kill();
        break;
    case action::kind::open:
        arm_timeout();
        sink_->opened();
        break;
    case action::kind::event:
        sink_->event(a.event_type, a.text, {});
        break;
    case action::kind::ignored: {
        // A message can be megabytes: its start is enough to recognise it.
        constexpr std::size_t shown = 200;
        spdlog::debug("ignoring message on {} ({} bytes): {}{}", channel_, a.text.size(),
                      a.text.substr(0, shown), a.text.size() > shown ? "..." : "");
        break;
    }
    case action::kind::finish: {
        feed::sink* sink = std::exchange(sink_, nullptr);
        release();
        sink->ended(a.reason, a.text);
        break;
    }
    case action::kind::none:
        break;
    }
    return machine_.next();
}

void watch::read(watch_machine::read_purpose purpose) {
    service_.commands().get(service_.data_key(std::string_view(channel_).substr(id_offset_)),
                            [weak = weak_from_this(), purpose](const redis::reply& r) {
                                if (auto self = weak.lock())
                                    self->run(self->machine_.read_reply(purpose, summary(r)));
                            });
}

void watch::publish_kill() {
    service_.commands().publish(
        channel_, kill_message(util::view(uuid_)),
        [weak = weak_from_this()](const redis::reply& r) {
            if (auto self = weak.lock())
                self->run(self->machine_.publish_reply(r.type == redis::reply::kind::integer));
        });
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
            self->run(self->machine_.timer_fired());
    });
}

void watch::cancel() noexcept {
    machine_.cancel();
    sink_ = nullptr;
    release();
}

// Everything a watch holds goes at once: its subscription share, its
// timer and its place in the service's list.
void watch::release() {
    subscription_.reset();
    if (timeout_timer_)
        timeout_timer_->cancel();
    registry_hook.unlink();
}

} // namespace rpd::tasks
