#pragma once

#include "redis_push/endpoints/mode_name.hpp"
#include "redis_push/http/endpoint.hpp"
#include "redis_push/streams/history_service.hpp"

#include <string_view>

namespace rpd::endpoints {

inline constexpr std::string_view history_suffix = "/history";

// GET /stream/<name>/history (MODES.md 3): one page of a stream's entries.
// Reached through the stream endpoint, or registered under /stream/ itself
// when the stream mode is off (then every other path there is 404).
class history_endpoint final : public http::endpoint {
public:
    history_endpoint(streams::history_service& history, const mode_names& names,
                     std::size_t max_limit)
        : history_(history), names_(names), max_limit_(max_limit) {}

    void serve(http::exchange& ex) override;

private:
    streams::history_service& history_;
    const mode_names& names_;
    std::size_t max_limit_;
};

} // namespace rpd::endpoints
