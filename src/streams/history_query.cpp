#include "redis_push/streams/history_query.hpp"

#include <limits>

namespace rpd::streams {

bool matches(const filter_list& filters, const redis::reply& fields) {
    for (const auto& f : filters) {
        bool held = false;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
            if (fields[i].value == f.field) {
                held = fields[i + 1].value == f.value;
                break;
            }
        if (!held)
            return false;
    }
    return true;
}

std::optional<redis::argv> range_command(std::string_view key, const history_range& r,
                                         std::size_t count) {
    constexpr auto top = std::numeric_limits<std::uint64_t>::max();
    const bool asc = r.dir == direction::ascending;
    if (r.from && (asc ? (r.from->ms == top && r.from->seq == top) : r.from->is_zero()))
        return std::nullopt;
    redis::argv args{asc ? "XRANGE" : "XREVRANGE", key};
    if (r.from)
        args.add_copy("(" + r.from->text());
    else
        args.add(asc ? "-" : "+");
    args.add(asc ? "+" : "-").add("COUNT").add_number(static_cast<long long>(count));
    return args;
}

} // namespace rpd::streams
