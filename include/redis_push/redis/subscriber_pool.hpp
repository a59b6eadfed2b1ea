#pragma once

#include "redis_push/redis/subscriber_connection.hpp"

#include <memory>
#include <string_view>
#include <vector>

namespace rpd::redis {

// A fixed number of subscriber connections. Each channel lives on exactly
// one of them, chosen by hash, so its listeners always share one Redis
// subscription; the number of connections never grows with the clients.
class subscriber_pool {
public:
    subscriber_pool(boost::asio::io_context& ioc, const endpoint& ep, std::size_t size,
                    const std::string& probe_channel);

    void start();
    void stop();
    // Told whenever one of the connections becomes ready.
    void on_ready(const std::function<void()>& hook);

    subscription subscribe(std::string_view channel, channel_listener& listener) {
        return connection_for(channel).subscribe(channel, listener);
    }
    bool ready_for(std::string_view channel) const { return connection_for(channel).ready(); }
    bool all_ready() const;
    std::size_t size() const { return connections_.size(); }
    std::size_t channel_count() const;
    std::uint64_t reconnects() const;
    std::uint64_t messages_received() const;

private:
    subscriber_connection& connection_for(std::string_view channel) const;

    std::vector<std::unique_ptr<subscriber_connection>> connections_;
};

} // namespace rpd::redis
