#pragma once

#include <cstdint>
#include <string_view>

namespace rpd::feed {

// Why a feed ended, in the protocol's terms. Every transport answers from
// the one table below (describe), so a status, an error text and a metric
// label are written down once.
enum class end_reason : std::uint8_t {
    found,         // a poll hit, or a watch whose task was already done
    delivered,     // a waiting feed got its answer (or, streaming, its last event)
    not_found,     // the key is missing
    invalid_json,  // the key holds something that is not JSON (watch only)
    unavailable,   // Redis is down or the command failed
    killed,        // a newer watch for the same task exists
    timed_out,     // the wait's time limit passed
    shutting_down, // the daemon is stopping
    wrong_type,    // the key exists but is not the Redis type the mode reads
    created,       // a publish was stored (201)
    expired,       // a queue or mailbox wait passed its time limit (504)
    acknowledged,  // a queue delivery was acknowledged (204, no body)
    count_
};

struct end_description {
    unsigned status;               // before a response was committed to
    std::string_view error_text;   // empty: the answer is the feed's value
    std::string_view metric_label; // the `outcome` label of redis_push_requests_total
};

const end_description& describe(end_reason r);

// Whether the reason carries an answer (the value) rather than an error.
inline bool is_answer(end_reason r) {
    return r == end_reason::found || r == end_reason::delivered || r == end_reason::created ||
           r == end_reason::acknowledged;
}

} // namespace rpd::feed
