#pragma once

#include "redis_push/feed/end_reason.hpp"

#include <array>
#include <cstdint>
#include <string_view>

namespace rpd::http {

// Counters the HTTP layer keeps; plain integers, as everything runs on the
// one event-loop thread.
enum class request_mode : std::uint8_t {
    poll,
    watch,
    head,
    options,
    operations,
    other,
    stream,  // anything under /stream/ (MODES.md 3)
    queue,   // anything under /queue/ (MODES.md 1)
    mailbox, // /mailbox/ and WebSocket identifies (MODES.md 2)
    history, // /stream/<name>/history
    count_
};

// How a request ended. The first values are feed::end_reason's, in its
// order, so a feed's end is counted without a second table.
enum class request_result : std::uint8_t {
    found,
    delivered,
    not_found,
    invalid_json,
    unavailable,
    killed,
    timed_out,
    shutting_down,
    wrong_type,
    created,
    expired,
    acknowledged,
    client_closed,
    invalid_task_id,
    invalid_signature,
    invalid_mode,
    method_not_allowed,
    unknown_path,
    bad_request,
    too_large,
    ok,
    invalid_name,
    invalid_parameter,
    invalid_message,
    upgraded,         // taken over by a WebSocket session
    upgrade_required, // a plain request on a WebSocket path (426)
    forbidden,        // an upgrade from an origin that is not allowed (403)
    count_
};
static_assert(static_cast<int>(request_result::client_closed) ==
              static_cast<int>(feed::end_reason::count_));

inline request_result result_of(feed::end_reason r) {
    return static_cast<request_result>(r);
}

std::string_view to_string(request_mode m);
std::string_view to_string(request_result r);

struct request_metrics {
    static constexpr std::size_t modes = static_cast<std::size_t>(request_mode::count_);
    static constexpr std::size_t results = static_cast<std::size_t>(request_result::count_);

    std::array<std::array<std::uint64_t, results>, modes> requests{};
    std::uint64_t connections_open = 0;
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_rejected = 0;
    std::uint64_t slow_clients_dropped = 0; // did not take their output (max_output_bytes)
    std::uint64_t sse_connections = 0;      // responses currently streaming text/event-stream
    std::uint64_t ws_connections = 0;       // open WebSocket connections (handshake done)

    void count(request_mode m, request_result r) {
        ++requests[static_cast<std::size_t>(m)][static_cast<std::size_t>(r)];
    }
};

} // namespace rpd::http
