#include "redis_push/endpoints/history_request.hpp"

#include "redis_push/endpoints/query_params.hpp"

#include <algorithm>

namespace rpd::endpoints {

namespace {
constexpr std::size_t default_limit = 100;
}

std::optional<streams::field_filter> parse_filter(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0)
        return std::nullopt;
    return streams::field_filter{std::string(text.substr(0, colon)),
                                 std::string(text.substr(colon + 1))};
}

std::optional<streams::page_request> parse_history_request(std::string_view query,
                                                           std::size_t max_limit) {
    const auto params = parse_query(query);
    if (!params)
        return std::nullopt;
    streams::page_request r;
    r.limit = std::min(default_limit, max_limit);
    std::optional<streams::stream_id> after;
    std::optional<streams::stream_id> before;
    bool desc = false;
    bool saw_after = false;
    bool saw_from = false;
    for (const auto& p : *params) {
        // `from` is the spec's other name of `after` (MODES.md 3, "history
        // from/before"); both at once name two starting points.
        if (p.name == "after" || p.name == "from" || p.name == "before") {
            const auto id = streams::parse_stream_id(p.value);
            if (!id)
                return std::nullopt;
            saw_after = saw_after || p.name == "after";
            saw_from = saw_from || p.name == "from";
            (p.name == "before" ? before : after) = *id;
        } else if (p.name == "limit") {
            const auto n = parse_count(p.value, max_limit);
            if (!n)
                return std::nullopt;
            r.limit = std::max<std::size_t>(1, static_cast<std::size_t>(*n));
        } else if (p.name == "order") {
            if (p.value != "desc")
                return std::nullopt;
            desc = true;
        } else if (p.name == "where") {
            auto f = parse_filter(p.value);
            if (!f)
                return std::nullopt;
            r.where.push_back(std::move(*f));
        }
    }
    // Two starting points, or a direction and a bound of the other one,
    // name no single page.
    if ((saw_after && saw_from) || (after && (before || desc)))
        return std::nullopt;
    if (before || desc) {
        r.range.dir = streams::direction::descending;
        r.range.from = before;
    } else if (after && !after->is_zero()) {
        r.range.from = after;
    }
    return r;
}

} // namespace rpd::endpoints
