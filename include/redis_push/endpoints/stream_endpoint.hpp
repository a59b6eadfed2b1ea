#pragma once

#include "redis_push/config/config.hpp"
#include "redis_push/endpoints/history_endpoint.hpp"
#include "redis_push/endpoints/mode_name.hpp"
#include "redis_push/http/endpoint.hpp"
#include "redis_push/streams/stream_service.hpp"
#include "redis_push/tasks/task_signer.hpp"

#include <string_view>

namespace rpd::endpoints {

inline constexpr std::string_view stream_prefix = "/stream/";

// Everything under /stream/ (MODES.md 3): long-poll, SSE and consumer-group
// reads, publish and ack. History pages are their own endpoint's, reached
// through this one.
class stream_endpoint final : public http::endpoint {
public:
    // `publish_signer`: the full-length HMAC of publish tokens; null when
    // there is no secret (no token is asked for).
    // `history`: the history pages' endpoint; null when that mode is off.
    stream_endpoint(streams::stream_service& streams, const config::stream_settings& settings,
                    const mode_names& names, const tasks::task_signer* publish_signer,
                    http::endpoint* history = nullptr)
        : streams_(streams), settings_(settings), names_(names), publish_signer_(publish_signer),
          history_(history) {}

    void serve(http::exchange& ex) override;

private:
    void read(http::exchange& ex, const std::string& name);
    void publish(http::exchange& ex, const std::string& name);
    void ack(http::exchange& ex, const std::string& name);

    streams::stream_service& streams_;
    const config::stream_settings& settings_;
    const mode_names& names_;
    const tasks::task_signer* publish_signer_;
    http::endpoint* history_;
};

} // namespace rpd::endpoints
