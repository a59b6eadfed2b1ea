#pragma once

#include "redis_push/config/config.hpp"
#include "redis_push/endpoints/mode_name.hpp"
#include "redis_push/http/endpoint.hpp"
#include "redis_push/queues/queue_service.hpp"
#include "redis_push/tasks/task_signer.hpp"

#include <string_view>

namespace rpd::endpoints {

inline constexpr std::string_view queue_prefix = "/queue/";

// Everything under /queue/ (MODES.md 1): take (plain or acknowledged),
// HEAD for the length, publish, and /queue/<name>/ack/<delivery id>.
class queue_endpoint final : public http::endpoint {
public:
    // `publish_signer`: the full-length HMAC of publish tokens; null when
    // there is no secret (no token is asked for).
    queue_endpoint(queues::queue_service& queues, const config::queue_settings& settings,
                   const mode_names& names, const tasks::task_signer* publish_signer)
        : queues_(queues), settings_(settings), names_(names), publish_signer_(publish_signer) {}

    void serve(http::exchange& ex) override;

private:
    void take(http::exchange& ex, const std::string& name);
    void length(http::exchange& ex, const std::string& name);
    void publish(http::exchange& ex, const std::string& name);
    void ack(http::exchange& ex, const std::string& name, std::string_view delivery_id);

    queues::queue_service& queues_;
    const config::queue_settings& settings_;
    const mode_names& names_;
    const tasks::task_signer* publish_signer_;
};

} // namespace rpd::endpoints
