#include "redis_push/endpoints/stream_read_request.hpp"

#include "redis_push/endpoints/query_params.hpp"

namespace rpd::endpoints {

namespace {
constexpr std::size_t default_count = 100;
}

std::optional<stream_read> parse_stream_read(std::string_view query, std::string_view last_event_id,
                                             bool accepts_sse, const config::stream_settings& s) {
    const auto params = parse_query(query);
    if (!params)
        return std::nullopt;
    stream_read r;
    r.sse = accepts_sse;
    std::size_t count = std::min<std::size_t>(default_count, s.max_count);
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(s.timeout);
    std::optional<streams::offset> after;
    streams::group_options group;
    bool pending = false;
    for (const auto& p : *params) {
        if (p.name == "after") {
            after = streams::parse_offset(p.value, true);
            if (!after)
                return std::nullopt;
        } else if (p.name == "count") {
            const auto n = parse_count(p.value, s.max_count);
            if (!n)
                return std::nullopt;
            count = *n == 0 ? 1 : static_cast<std::size_t>(*n);
        } else if (p.name == "timeout") {
            const auto n = parse_count(p.value, static_cast<std::uint64_t>(s.max_timeout.count()));
            if (!n)
                return std::nullopt;
            wait = std::chrono::seconds(*n);
        } else if (p.name == "sse") {
            r.sse = true;
        } else if (p.name == "group") {
            group.group = p.value;
        } else if (p.name == "consumer") {
            group.consumer = p.value;
        } else if (p.name == "pending") {
            pending = true;
        } else if (p.name == "start") {
            if (p.value != "0" && p.value != "$")
                return std::nullopt;
            group.start_at_zero = p.value == "0";
        }
    }
    if (!last_event_id.empty()) {
        after = streams::parse_offset(last_event_id, false);
        if (!after)
            return std::nullopt;
    }
    if (!group.group.empty() || !group.consumer.empty()) {
        if (group.group.empty() || group.consumer.empty())
            return std::nullopt;
        group.count = count;
        group.pending = pending;
        group.one_shot = true;
        group.wait = wait;
        r.group = std::move(group);
        r.sse = false;
        return r;
    }
    if (after)
        r.subscribe.from = *after;
    r.subscribe.one_shot = !r.sse;
    r.subscribe.max_messages = count;
    r.subscribe.wait = wait;
    return r;
}

} // namespace rpd::endpoints
