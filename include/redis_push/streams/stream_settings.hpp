#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace rpd::streams {

// What the stream mode needs of the configuration (config::stream_settings
// and the Redis keys), in its own terms.
struct stream_mode_settings {
    std::string key_prefix = "RA_S_"; // redis.prefix + "S_"
    std::uint32_t db = 0;             // for the __keyspace@<db>__ channels
    // Entries per Redis read: a subscriber's replay page, and one shared
    // read of new entries.
    std::uint32_t read_batch = 1000;
    // A stream with subscribers is read at least this often, notification
    // or not (MODES.md 0).
    std::chrono::milliseconds recheck{1000};
    std::chrono::milliseconds claim_idle{60000};
};

} // namespace rpd::streams
