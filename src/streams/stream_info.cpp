#include "redis_push/streams/stream_info.hpp"

namespace rpd::streams {

std::optional<stream_info> parse_stream_info(const redis::reply& r) {
    using kind = redis::reply::kind;
    if (r.type != kind::array)
        return std::nullopt;
    stream_info info;
    info.exists = true;
    for (std::size_t i = 0; i + 1 < r.size(); i += 2) {
        const auto name = r[i].value;
        const auto v = r[i + 1];
        if (name == "length") {
            info.length = static_cast<std::uint64_t>(v.integer);
        } else if (name == "entries-added") {
            info.entries_added = static_cast<std::uint64_t>(v.integer);
        } else if (name == "last-generated-id") {
            if (const auto id = parse_stream_id(v.value))
                info.last_generated = *id;
        } else if (name == "max-deleted-entry-id") {
            if (const auto id = parse_stream_id(v.value))
                info.max_deleted = *id;
        } else if (name == "first-entry") {
            if (v.type == kind::array && v.size() == 2 && v[0].type == kind::value)
                info.first_entry = parse_stream_id(v[0].value);
        }
    }
    return info;
}

bool is_gap(const stream_id& after, const stream_info& info) {
    if (!info.exists || after.is_zero())
        return false;
    const bool trimmed = info.entries_added > info.length;
    if (trimmed && info.first_entry && after < *info.first_entry)
        return true;
    return after < info.max_deleted;
}

} // namespace rpd::streams
