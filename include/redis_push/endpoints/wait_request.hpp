#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace rpd::endpoints {

// The query of a queue take or mailbox poll (MODES.md 0, 1, 6): how long it
// waits (`timeout`, a non-negative integer of seconds, clamped to `max`;
// absent: `fallback`) and whether the take is acknowledged (`ack`, with or
// without a value). Other parameters are ignored. nullopt: 400 `Invalid
// parameter`.
struct wait_request {
    std::chrono::milliseconds wait{0};
    bool acknowledged = false;
};

std::optional<wait_request>
parse_wait_request(std::string_view query, std::chrono::seconds fallback, std::chrono::seconds max);

} // namespace rpd::endpoints
