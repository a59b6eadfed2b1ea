#pragma once

#include <string_view>

namespace rpd::redis {

class subscriber_connection;
struct channel_entry;

// Told about one channel. Implemented by whatever waits on a channel (a
// watch); the Redis layer never knows what that is.
class channel_listener {
public:
    // The subscription is confirmed by Redis: the first time, and again
    // after every reconnect (messages may have been missed meanwhile).
    virtual void on_subscribed() = 0;
    virtual void on_message(std::string_view payload) = 0;

protected:
    ~channel_listener() = default;
};

// One listener's share of a channel subscription. Move-only; destroying or
// resetting it removes the listener at once, and the last share leaving
// unsubscribes (batched with others in the same event-loop turn).
class subscription {
public:
    subscription() = default;
    subscription(subscription&& other) noexcept;
    subscription& operator=(subscription&& other) noexcept;
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;
    ~subscription() { reset(); }

    void reset();
    // True once Redis confirmed the channel on its current connection.
    bool confirmed() const;

private:
    friend class subscriber_connection;
    subscription(subscriber_connection* owner, channel_entry* entry, channel_listener* listener)
        : owner_(owner), entry_(entry), listener_(listener) {}

    subscriber_connection* owner_ = nullptr;
    channel_entry* entry_ = nullptr;
    channel_listener* listener_ = nullptr;
};

} // namespace rpd::redis
