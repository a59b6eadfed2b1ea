#include "redis_push/redis/subscriber_pool.hpp"

#include <functional>

namespace rpd::redis {

subscriber_pool::subscriber_pool(boost::asio::io_context& ioc, const endpoint& ep, std::size_t size,
                                 const std::string& probe_channel) {
    endpoint sub_ep = ep;
    sub_ep.db = 0; // pub/sub ignores the database; skip the SELECT
    connections_.reserve(size);
    for (std::size_t i = 0; i < size; ++i)
        connections_.push_back(std::make_unique<subscriber_connection>(ioc, sub_ep, probe_channel));
}

void subscriber_pool::start() {
    for (auto& c : connections_)
        c->start();
}

void subscriber_pool::on_ready(const std::function<void()>& hook) {
    for (auto& c : connections_)
        c->on_ready(hook);
}

void subscriber_pool::stop() {
    for (auto& c : connections_)
        c->stop();
}

subscriber_connection& subscriber_pool::connection_for(std::string_view channel) const {
    const std::size_t index = std::hash<std::string_view>{}(channel) % connections_.size();
    return *connections_[index];
}

bool subscriber_pool::all_ready() const {
    for (const auto& c : connections_)
        if (!c->ready())
            return false;
    return true;
}

std::size_t subscriber_pool::channel_count() const {
    std::size_t n = 0;
    for (const auto& c : connections_)
        n += c->channel_count();
    return n;
}

std::uint64_t subscriber_pool::reconnects() const {
    std::uint64_t n = 0;
    for (const auto& c : connections_)
        n += c->reconnects();
    return n;
}

std::uint64_t subscriber_pool::messages_received() const {
    std::uint64_t n = 0;
    for (const auto& c : connections_)
        n += c->messages_received();
    return n;
}

} // namespace rpd::redis
