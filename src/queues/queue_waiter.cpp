#include "redis_push/queues/queue_waiter.hpp"

#include "redis_push/queues/queue_channel.hpp"
#include "redis_push/queues/queue_service.hpp"
#include "redis_push/util/json_value.hpp"

#include <boost/asio/post.hpp>

namespace rpd::queues {

queue_waiter::queue_waiter(queue_service& service, std::shared_ptr<queue_channel> channel,
                           feed::sink& sink, take_options options)
    : service_(service), channel_(std::move(channel)), sink_(&sink), options_(options) {
    ++service_.tally().waiters;
}

queue_waiter::~queue_waiter() {
    --service_.tally().waiters;
}

void queue_waiter::start() {
    if (service_.shutting_down())
        return boost::asio::post(service_.io(), [weak = weak_from_this()] {
            if (auto self = weak.lock())
                self->end(feed::end_reason::shutting_down);
        });
    if (!once()) {
        wait_timer_.emplace(service_.io());
        wait_timer_->expires_after(options_.wait);
        wait_timer_->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
            if (auto self = weak.lock(); self && !ec)
                self->end(feed::end_reason::expired);
        });
    }
    channel_->add(*this);
    channel_->ring();
}

void queue_waiter::deliver(std::string_view message, std::string_view delivery_id,
                           feed::receipt written) {
    auto* sink = sink_;
    release();
    sink->hand_over(std::move(written));
    sink->event(util::is_json(message) ? "json" : "text", message, delivery_id);
    sink->ended(feed::end_reason::delivered, {});
}

void queue_waiter::end(feed::end_reason reason) {
    if (sink_ == nullptr)
        return;
    auto* sink = sink_;
    release();
    sink->ended(reason, {});
}

void queue_waiter::cancel() noexcept {
    release();
}

// Leaves the line and the channel at once: a waiter that is gone holds
// nothing (a round in flight finds it gone and puts its message back).
void queue_waiter::release() {
    sink_ = nullptr;
    channel_hook.unlink();
    if (wait_timer_)
        wait_timer_->cancel();
    channel_.reset();
}

} // namespace rpd::queues
