#include "redis_push/redis/keyspace_events.hpp"

#include <spdlog/spdlog.h>

namespace rpd::redis {

keyspace_events::keyspace_events(command_connection& commands, bool automatic, std::string needed)
    : commands_(commands), automatic_(automatic), needed_(std::move(needed)) {}

std::string keyspace_events::completed(std::string_view current, std::string_view needed) {
    std::string out(current);
    const bool all_classes = current.find('A') != std::string_view::npos;
    if (out.find('K') == std::string::npos)
        out.push_back('K');
    for (const char flag : needed)
        if (!all_classes && out.find(flag) == std::string::npos)
            out.push_back(flag);
    return out;
}

void keyspace_events::ensure() {
    if (!automatic_ || needed_.empty())
        return;
    commands_.command(argv{"CONFIG", "GET", "notify-keyspace-events"}, [this](const reply& r) {
        // [name, value]
        if (r.type != reply::kind::array || r.size() != 2) {
            if (r.type == reply::kind::error && !std::exchange(warned_, true))
                spdlog::warn("redis: cannot read notify-keyspace-events ({}); streams and "
                             "queues are re-checked every modes.recheck_ms instead",
                             r.value);
            return;
        }
        const std::string current(r[1].value);
        const std::string wanted = completed(current, needed_);
        if (wanted == current)
            return;
        commands_.command(
            argv{"CONFIG", "SET", "notify-keyspace-events", wanted},
            [this, current, wanted](const reply& set) {
                if (set.type == reply::kind::value) {
                    spdlog::info("redis: notify-keyspace-events \"{}\" -> \"{}\" (doorbells of "
                                 "the modes; redis.keyspace_events: \"off\" leaves it alone)",
                                 current, wanted);
                    return;
                }
                if (set.type == reply::kind::error && !std::exchange(warned_, true))
                    spdlog::warn("redis: CONFIG SET notify-keyspace-events refused ({}); "
                                 "streams and queues are re-checked every modes.recheck_ms "
                                 "instead",
                                 set.value);
            });
    });
}

} // namespace rpd::redis
