#pragma once

#include "redis_push/redis/reply.hpp"
#include "redis_push/streams/stream_id.hpp"

#include <optional>

namespace rpd::streams {

// What XINFO STREAM tells about a stream, as far as cursors and gaps need
// it (Redis 7).
struct stream_info {
    bool exists = false;
    stream_id last_generated; // what `$` stands for; 0-0 when missing
    std::optional<stream_id> first_entry;
    std::uint64_t length = 0;
    std::uint64_t entries_added = 0;
    stream_id max_deleted; // XDEL's high-water mark; trimming leaves it
};

// From an XINFO STREAM reply (a flat array of names and values). A missing
// key's error reply is not handed here: that is `stream_info{}`.
std::optional<stream_info> parse_stream_info(const redis::reply& r);

// MODES.md 6: `after` is a gap when entries after it were removed: it is
// older than the first entry while entries were trimmed, or older than the
// newest XDELeted entry. `0` is never a gap (nor `$`, which never asks).
bool is_gap(const stream_id& after, const stream_info& info);

} // namespace rpd::streams
