#pragma once

#include "redis_push/config/config.hpp"
#include "redis_push/streams/group_reader.hpp"
#include "redis_push/streams/stream_subscriber.hpp"

#include <optional>
#include <string_view>

namespace rpd::endpoints {

// What a GET under /stream/<name> asks (MODES.md 3, 6).
struct stream_read {
    streams::subscribe_options subscribe; // long-poll (one-shot) or SSE
    std::optional<streams::group_options> group;
    bool sse = false;
};

// Pure. nullopt: 400 Invalid parameter (a bad offset, count or timeout, a
// group without a consumer, a start other than 0 or $). `after`, `count`
// and `timeout` follow MODES.md 6; SSE resumes after Last-Event-ID (which
// wins over `after`), else after `after`, else only new messages.
std::optional<stream_read> parse_stream_read(std::string_view query, std::string_view last_event_id,
                                             bool accepts_sse, const config::stream_settings& s);

} // namespace rpd::endpoints
