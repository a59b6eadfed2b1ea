#include "redis_push/redis/subscription_set.hpp"

#include <algorithm>

namespace rpd::redis {

channel_entry& subscription_set::add(std::string_view channel, channel_listener& listener) {
    auto it = channels_.find(channel);
    if (it == channels_.end()) {
        it = channels_.emplace(std::string(channel), channel_entry{}).first;
        it->second.name = &it->first;
    }
    channel_entry& entry = it->second;
    entry.listeners.push_back(&listener);
    if (entry.server == channel_entry::server_state::none)
        enqueue(entry);
    return entry;
}

void subscription_set::remove(channel_entry& entry, channel_listener& listener,
                              clock::time_point now) {
    auto& ls = entry.listeners;
    ls.erase(std::remove(ls.begin(), ls.end(), &listener), ls.end());
    if (!ls.empty())
        return;
    if (entry.server == channel_entry::server_state::none) {
        enqueue(entry); // never sent: the next batch just forgets it
        return;
    }
    entry.idle_since = now;
    if (!entry.lingering) {
        entry.lingering = true;
        lingering_.push_back(&entry);
    }
}

subscription_set::batch subscription_set::take_expired(clock::time_point cutoff,
                                                       std::size_t limit) {
    batch b;
    std::size_t kept = 0;
    std::size_t taken = 0;
    for (channel_entry* entry : lingering_) {
        if (!entry->listeners.empty()) {
            entry->lingering = false; // wanted again
        } else if (entry->idle_since <= cutoff && !entry->queued && taken < limit) {
            ++taken;
            if (entry->server != channel_entry::server_state::none)
                b.unsubscribe.push_back(*entry->name);
            channels_.erase(*entry->name);
        } else {
            lingering_[kept++] = entry;
        }
    }
    lingering_.resize(kept);
    release_capacity_when_empty();
    return b;
}

// A hash table and vectors keep the size of their largest moment for ever;
// once a peak of channels has fully drained, give that memory back. The
// queue and the lingering list only point into channels_, so they are
// empty too by then.
void subscription_set::release_capacity_when_empty() {
    constexpr std::size_t worth_it = 1024;
    if (!channels_.empty() || channels_.bucket_count() < worth_it)
        return;
    decltype(channels_)().swap(channels_);
    decltype(queue_)().swap(queue_);
    decltype(lingering_)().swap(lingering_);
}

void subscription_set::enqueue(channel_entry& entry) {
    if (entry.queued)
        return;
    entry.queued = true;
    queue_.push_back(&entry);
}

subscription_set::batch subscription_set::take_batch() {
    batch b;
    for (channel_entry* entry : queue_) {
        entry->queued = false;
        const bool wanted = !entry->listeners.empty();
        if (wanted && entry->server == channel_entry::server_state::none) {
            entry->server = channel_entry::server_state::requested;
            b.subscribe.push_back(*entry->name);
        } else if (!wanted && !entry->lingering) {
            if (entry->server != channel_entry::server_state::none)
                b.unsubscribe.push_back(*entry->name);
            channels_.erase(*entry->name);
        }
    }
    queue_.clear();
    release_capacity_when_empty();
    return b;
}

void subscription_set::connection_lost() {
    for (auto& [name, entry] : channels_)
        entry.server = channel_entry::server_state::none;
}

subscription_set::batch subscription_set::resubscribe_all() {
    queue_.clear();
    lingering_.clear();
    batch b;
    for (auto it = channels_.begin(); it != channels_.end();) {
        channel_entry& entry = it->second;
        entry.queued = false;
        entry.lingering = false;
        if (entry.listeners.empty()) {
            it = channels_.erase(it);
            continue;
        }
        entry.server = channel_entry::server_state::requested;
        b.subscribe.push_back(it->first);
        ++it;
    }
    return b;
}

channel_entry* subscription_set::confirm(std::string_view channel) {
    channel_entry* entry = find(channel);
    if (entry == nullptr || entry->server != channel_entry::server_state::requested)
        return nullptr;
    entry->server = channel_entry::server_state::confirmed;
    return entry;
}

channel_entry* subscription_set::find(std::string_view channel) {
    auto it = channels_.find(channel);
    return it == channels_.end() ? nullptr : &it->second;
}

} // namespace rpd::redis
