#pragma once

#include "redis_push/feed/end_reason.hpp"
#include "redis_push/redis/reply.hpp"

#include <optional>

namespace rpd::streams {

// How a stream read's reply ends its feed, if it does: Redis down or the
// command lost (unavailable), the key holding another type (wrong_type).
// Any other reply is the caller's to judge (a missing key is no failure).
inline std::optional<feed::end_reason> read_failure(const redis::reply& r) {
    using kind = redis::reply::kind;
    if (r.type == kind::unavailable)
        return feed::end_reason::unavailable;
    if (r.type == kind::error && r.value.starts_with("WRONGTYPE"))
        return feed::end_reason::wrong_type;
    return std::nullopt;
}

} // namespace rpd::streams
