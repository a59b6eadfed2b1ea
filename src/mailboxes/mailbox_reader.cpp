#include "redis_push/mailboxes/mailbox_reader.hpp"

#include "redis_push/mailboxes/mailbox_channel.hpp"
#include "redis_push/mailboxes/mailbox_service.hpp"
#include "redis_push/util/json_value.hpp"

#include <boost/asio/post.hpp>

namespace rpd::mailboxes {

mailbox_reader::mailbox_reader(mailbox_service& service, std::shared_ptr<mailbox_channel> channel,
                               feed::sink& sink, kind k, std::chrono::milliseconds wait)
    : service_(service), channel_(std::move(channel)), sink_(&sink), kind_(k), wait_(wait) {
    ++(is_socket() ? service_.tally().sockets : service_.tally().waiting);
}

mailbox_reader::~mailbox_reader() {
    --(is_socket() ? service_.tally().sockets : service_.tally().waiting);
}

void mailbox_reader::start() {
    if (service_.shutting_down())
        return boost::asio::post(service_.io(), [weak = weak_from_this()] {
            if (auto self = weak.lock())
                self->end(feed::end_reason::shutting_down);
        });
    if (kind_ == kind::poll && !once()) {
        wait_timer_.emplace(service_.io());
        wait_timer_->expires_after(wait_);
        wait_timer_->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
            if (auto self = weak.lock(); self && !ec)
                self->end(feed::end_reason::expired);
        });
    }
    channel_->add(*this);
    channel_->ring();
}

void mailbox_reader::deliver(const redis::reply& items, std::vector<feed::receipt> written) {
    if (is_socket()) {
        for (std::size_t i = 0; i < items.size() && sink_ != nullptr; ++i) {
            sink_->hand_over(std::move(written[i]));
            sink_->event("message", items[i].value, {});
        }
        return;
    }
    // Everything at once, as a JSON array; a message that is not JSON
    // becomes a JSON string (MODES.md 2).
    std::string body = "[";
    for (const auto item : items) {
        if (body.size() > 1)
            body.push_back(',');
        util::append_json_value(body, item.value);
    }
    body.push_back(']');
    auto* sink = sink_;
    release();
    sink->hand_over(std::move(written.front()));
    sink->event("json", body, {});
    sink->ended(feed::end_reason::delivered, {});
}

void mailbox_reader::end(feed::end_reason reason) {
    if (sink_ == nullptr)
        return;
    auto* sink = sink_;
    release();
    sink->ended(reason, {});
}

void mailbox_reader::cancel() noexcept {
    release();
}

void mailbox_reader::release() {
    sink_ = nullptr;
    if (wait_timer_)
        wait_timer_->cancel();
    if (auto channel = std::move(channel_))
        channel->left(*this);
}

} // namespace rpd::mailboxes
