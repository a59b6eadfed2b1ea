#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rpd::redis {

class channel_listener;

struct channel_entry {
    enum class server_state { none, requested, confirmed };
    const std::string* name = nullptr; // the map key, stable for the entry's life
    server_state server = server_state::none;
    bool queued = false;    // in the next batch
    bool lingering = false; // no listener left, still subscribed for a while
    std::chrono::steady_clock::time_point idle_since;
    std::vector<channel_listener*> listeners;
};

// The channels one subscriber connection should hold, and what to tell
// Redis to get there. Pure bookkeeping, no I/O: the connection asks for a
// batch once per event-loop turn and sends it as one SUBSCRIBE and one
// UNSUBSCRIBE. A subscribed channel whose last listener left lingers for a
// while before it is unsubscribed: a client that watches the same task again
// right away (the usual loop after an update) costs Redis nothing, and a
// burst of finishing watches is not slowed down by as many UNSUBSCRIBE
// replies.
class subscription_set {
public:
    struct batch {
        std::vector<std::string> subscribe;
        std::vector<std::string> unsubscribe;
        bool empty() const { return subscribe.empty() && unsubscribe.empty(); }
    };

    using clock = std::chrono::steady_clock;

    channel_entry& add(std::string_view channel, channel_listener& listener);
    void remove(channel_entry& entry, channel_listener& listener,
                clock::time_point now = clock::now());
    bool has_queued() const { return !queue_.empty(); }
    bool has_lingering() const { return !lingering_.empty(); }

    // Unsubscribes (at most `limit` of) the channels left without listeners
    // at `cutoff` or before.
    batch take_expired(clock::time_point cutoff, std::size_t limit = SIZE_MAX);

    // The changes queued since the last batch.
    batch take_batch();
    // The server forgot everything (connection lost).
    void connection_lost();
    // A new connection: every wanted channel, to subscribe again.
    batch resubscribe_all();

    // Redis confirmed a SUBSCRIBE. Returns the entry whose listeners should
    // hear about it, or nullptr if nobody waits for this confirmation.
    channel_entry* confirm(std::string_view channel);
    channel_entry* find(std::string_view channel);

    std::size_t size() const { return channels_.size(); }

private:
    void enqueue(channel_entry& entry);
    void release_capacity_when_empty();

    struct name_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    std::unordered_map<std::string, channel_entry, name_hash, std::equal_to<>> channels_;
    std::vector<channel_entry*> queue_;
    std::vector<channel_entry*> lingering_;
};

} // namespace rpd::redis
