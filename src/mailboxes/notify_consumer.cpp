#include "redis_push/mailboxes/notify_consumer.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

namespace rpd::mailboxes {

namespace {
std::string seconds_text(std::chrono::milliseconds ms) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", static_cast<double>(ms.count()) / 1000.0);
    return text;
}
} // namespace

notify_consumer::notify_consumer(boost::asio::io_context& ioc, const redis::endpoint& ep,
                                 std::string list, std::chrono::milliseconds block,
                                 std::function<void(std::string_view)> ring)
    : connection_(ioc, ep), retry_timer_(ioc), block_(block), list_(std::move(list)),
      block_seconds_(seconds_text(block)), ring_(std::move(ring)) {}

void notify_consumer::start() {
    // Every (re)connect starts the loop again; a pop that was in flight
    // when the connection went was answered with `unavailable` meanwhile.
    connection_.on_ready([this] {
        spdlog::info("mailbox: consuming the notify list {}", list_);
        pop();
    });
    connection_.start();
}

void notify_consumer::stop() {
    stopped_ = true;
    retry_timer_.cancel();
    connection_.stop();
}

// After an error (the list is of another type, say): not at full speed.
void notify_consumer::pop_later() {
    retry_timer_.expires_after(block_);
    retry_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec)
            pop();
    });
}

// One BLPOP at a time: it blocks at most block_seconds_, then the loop goes
// round (the command connection's time-out would take a longer wait for a
// stuck server).
void notify_consumer::pop() {
    if (stopped_ || popping_ || !connection_.ready())
        return;
    popping_ = true;
    connection_.command(redis::argv{"BLPOP", list_, block_seconds_}, [this](const redis::reply& r) {
        popping_ = false;
        using kind = redis::reply::kind;
        if (r.type == kind::error) {
            spdlog::warn("mailbox: BLPOP {} failed: {}", list_, r.value);
            return pop_later();
        }
        if (r.type == kind::array && r.size() == 2)
            ring_(r[1].value);
        if (r.type != kind::unavailable)
            pop();
    });
}

} // namespace rpd::mailboxes
