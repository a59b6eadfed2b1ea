#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace rpd::queues {

// What the queue mode needs of the configuration (config::queue_settings
// and the Redis keys), in its own terms. With redis.prefix P: the queue
// `P Q_<name>`, the in-flight list `P QI_<name>` of MODES.md 1, and the
// acknowledged mode's bookkeeping, which the spec leaves to us: the hash
// `P QD_<name>` (delivery id -> message) and the sorted set `P QT_<name>`
// (delivery id -> deadline, ms of Redis' clock), plus the set `P QA` of
// queue names with deliveries in flight, so that any daemon on the Redis
// can put back an expired delivery, not only the one that made it.
struct queue_mode_settings {
    std::string prefix = "RA_"; // redis.prefix
    std::uint32_t db = 0;       // for the __keyspace@<db>__ channels
    std::chrono::seconds visibility{30};
    // A queue with waiters is taken from at least this often, notification
    // or not; expired deliveries are looked for at the same pace.
    std::chrono::milliseconds recheck{1000};

    std::string queue_key(std::string_view name) const { return key("Q_", name); }
    std::string inflight_key(std::string_view name) const { return key("QI_", name); }
    std::string deliveries_key(std::string_view name) const { return key("QD_", name); }
    std::string deadlines_key(std::string_view name) const { return key("QT_", name); }
    std::string registry_key() const { return prefix + "QA"; }

private:
    std::string key(std::string_view kind, std::string_view name) const {
        std::string k = prefix;
        k.append(kind).append(name);
        return k;
    }
};

} // namespace rpd::queues
