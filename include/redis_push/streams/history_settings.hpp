#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace rpd::streams {

// What the history mode needs of the configuration (history.*, the limit
// of stream.max_count and the key prefix), in its own terms.
struct history_mode_settings {
    std::string key_prefix = "RA_S_"; // redis.prefix + "S_", the streams' keys
    std::size_t max_limit = 1000;     // stream.max_count: the most messages one page holds
    std::size_t max_scan = 10000;     // entries one page examines at most
    std::chrono::seconds accept_timeout{30};
    // Entries per XRANGE of a filtered page: big enough that a selective
    // filter costs few round trips, small enough that one page's reply
    // stays small.
    std::size_t scan_batch = 1000;
    // Entries per XRANGE of a fetch: what one fetch holds in memory at
    // most, whatever the stream's length.
    std::size_t fetch_batch = 100;
};

// Counters the history mode keeps for /metrics.
struct history_counters {
    std::uint64_t fetches_active = 0;     // started, not yet ended or freed
    std::uint64_t messages_delivered = 0; // page messages and fetch rows
    std::uint64_t entries_examined = 0;   // read from Redis for pages and fetches
    // How fetches ended: end after the last row, the client's own end or
    // close, no acceptance in time, Redis failed.
    std::uint64_t fetches_completed = 0;
    std::uint64_t fetches_stopped = 0;
    std::uint64_t fetches_timed_out = 0;
    std::uint64_t fetches_failed = 0;
};

} // namespace rpd::streams
