#pragma once

#include <cstdint>
#include <string_view>

namespace rpd::tasks {

// How a poll or watch ended, in the protocol's terms. The HTTP layer maps
// each to a status code and (for errors) the exact error text.
enum class outcome : std::uint8_t {
    found,         // poll hit, or a watch whose task was already done
    delivered,     // a waiting watch ended by an update/done
    not_found,     // data key missing
    invalid_json,  // data key holds something that is not JSON (watch only)
    unavailable,   // Redis down or the command failed
    killed,        // a newer watch for the same task exists
    timed_out,     // watch.timeout_seconds passed
    shutting_down, // the daemon is stopping
};

constexpr std::string_view to_string(outcome o) {
    switch (o) {
    case outcome::found:
        return "found";
    case outcome::delivered:
        return "delivered";
    case outcome::not_found:
        return "not_found";
    case outcome::invalid_json:
        return "invalid_json";
    case outcome::unavailable:
        return "unavailable";
    case outcome::killed:
        return "killed";
    case outcome::timed_out:
        return "timed_out";
    case outcome::shutting_down:
        return "shutting_down";
    }
    return "unknown";
}

} // namespace rpd::tasks
