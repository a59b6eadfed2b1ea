#pragma once

#include "redis_push/redis/command_connection.hpp"

#include <string>
#include <string_view>

namespace rpd::redis {

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
