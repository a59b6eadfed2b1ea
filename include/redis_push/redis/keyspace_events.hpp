#pragma once

#include "redis_push/redis/command_connection.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace rpd::redis {

// The channel of a key's keyspace notifications: a doorbell.
inline std::string keyspace_channel(std::uint32_t db, std::string_view key) {
    std::string channel = "__keyspace@" + std::to_string(db) + "__:";
    channel.append(key);
    return channel;
}

// Whether a list's keyspace event can only have removed elements (pops,
// including our own takes, deletions, trims, expiry): no reason to look
// for new messages.
inline bool removes_only(std::string_view event) {
    return event.ends_with("pop") || event == "del" || event == "lrem" || event == "ltrim" ||
           event == "expired" || event == "evicted" || event == "expire";
}

// The keyspace notifications the modes' doorbells need (MODES.md 0): with
// "auto" the missing flags are added to notify-keyspace-events with CONFIG
// SET, at start and after every reconnect (a restarted Redis forgot them);
// when Redis refuses (a managed Redis), a warning once, and the modes
// re-check on their timers alone. With "off" Redis's setting is left alone.
class keyspace_events {
public:
    // `needed`: class flags besides K, e.g. "t" for streams, "l" for lists.
    keyspace_events(command_connection& commands, bool automatic, std::string needed);

    // On every (re)connect of the command connection.
    void ensure();

    // What notify-keyspace-events must hold so that `needed` is covered:
    // `current` plus whatever is missing ("A" covers every class).
    static std::string completed(std::string_view current, std::string_view needed);

private:
    command_connection& commands_;
    bool automatic_;
    std::string needed_;
    bool warned_ = false;
};

} // namespace rpd::redis
