#pragma once

#include "redis_push/redis/argv.hpp"
#include "redis_push/redis/reply.hpp"
#include "redis_push/streams/stream_id.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rpd::streams {

// One `where=<field>:<value>` (MODES.md 3): compared with the field's raw
// stored string, so a filter means the same whatever the value looks like.
struct field_filter {
    std::string field;
    std::string value;
};
using filter_list = std::vector<field_filter>;

// Every filter holds on an entry's [field, value, ...] array. A field that
// occurs twice in one entry is judged by its first occurrence, the one a
// client reading the entry would see first.
bool matches(const filter_list& filters, const redis::reply& fields);

enum class direction : std::uint8_t { ascending, descending };

// What one history read asks: where it starts (exclusive) and which way.
struct history_range {
    direction dir = direction::ascending;
    // `after` (ascending) or `before` (descending); none: from the first
    // (or the last) entry.
    std::optional<stream_id> from;
};

// The XRANGE / XREVRANGE that reads up to `count` entries past `from`
// (exclusive bounds need Redis 6.2). nullopt when no id can lie beyond the
// bound (before 0-0, after the largest id): Redis would refuse the
// interval, and the answer is known to be empty.
std::optional<redis::argv> range_command(std::string_view key, const history_range& r,
                                         std::size_t count);

} // namespace rpd::streams
