#pragma once

#include "redis_push/config/config.hpp"
#include "redis_push/endpoints/history_endpoint.hpp"
#include "redis_push/endpoints/mailbox_endpoint.hpp"
#include "redis_push/endpoints/mode_name.hpp"
#include "redis_push/endpoints/operations_endpoints.hpp"
#include "redis_push/endpoints/queue_endpoint.hpp"
#include "redis_push/endpoints/stream_endpoint.hpp"
#include "redis_push/endpoints/task_endpoint.hpp"
#include "redis_push/endpoints/ws_client.hpp"
#include "redis_push/endpoints/ws_endpoint.hpp"
#include "redis_push/http/context.hpp"
#include "redis_push/http/router.hpp"
#include "redis_push/http/static_files.hpp"
#include "redis_push/tasks/task_id.hpp"
#include "redis_push/tasks/task_service.hpp"
#include "redis_push/tasks/task_signer.hpp"

#include <functional>
#include <memory>
#include <string>

namespace rpd::app {

// Where each endpoint sits in the URL space (PROTOCOL.md §2, §6).
struct endpoint_refs {
    http::endpoint& health;
    http::endpoint& metrics;
    http::endpoint& task;
    http::endpoint& fallback;
    http::endpoint* stream; // null: the mode is switched off (its paths are 404)
    http::endpoint* queue = nullptr;
    http::endpoint* mailbox = nullptr;
    http::endpoint* websocket = nullptr;
    const std::vector<std::string>* websocket_paths = nullptr;
    // Under /stream/ on its own only while the stream mode is off; else the
    // stream endpoint passes /stream/<name>/history on to it.
    http::endpoint* history = nullptr;
};
void register_endpoints(http::router& routes, const endpoint_refs& e);

// The services of the modes, which the endpoints serve from.
struct mode_services {
    tasks::task_service& tasks;
    streams::stream_service& streams;
    queues::queue_service& queues;
    mailboxes::mailbox_service& mailboxes;
    streams::history_service& history;
};

// The wiring of the HTTP side: every endpoint, built from the settings and
// the services, registered under its path. A new mode is one member and
// one line in the constructor.
class endpoint_set {
public:
    endpoint_set(const config::settings& s, const mode_services& modes,
                 std::function<bool()> redis_up, std::function<std::string()> render_metrics,
                 http::context& http);
    endpoint_set(const endpoint_set&) = delete;
    endpoint_set& operator=(const endpoint_set&) = delete;

private:
    tasks::task_id_validator validator_;
    std::unique_ptr<tasks::task_signer> signer_; // null: ids are not signed
    http::static_files statics_;
    endpoints::task_endpoint task_;
    endpoints::health_endpoint health_;
    endpoints::metrics_endpoint metrics_;
    endpoints::fallback_endpoint fallback_;
    // Names of the modes: signed with the task secret, under their own purpose.
    endpoints::mode_names stream_names_;
    std::unique_ptr<tasks::task_signer> publish_signer_; // full-length HMAC; null: no secret
    endpoints::history_endpoint history_;
    endpoints::stream_endpoint stream_;
    endpoints::mode_names queue_names_;
    endpoints::queue_endpoint queue_;
    endpoints::mode_names mailbox_names_;
    endpoints::mailbox_endpoint mailbox_;
    endpoints::ws_client_settings ws_clients_;
    endpoints::ws_endpoint websocket_;
};

} // namespace rpd::app
