#include "redis_push/app/endpoints.hpp"

#include "redis_push/endpoints/task_request.hpp"

namespace rpd::app {

namespace {
std::unique_ptr<tasks::task_signer> signer_of(const config::settings& s, std::size_t bytes) {
    if (s.task.signing_secret.empty())
        return nullptr;
    return std::make_unique<tasks::task_signer>(s.task.signing_secret, bytes);
}
} // namespace

endpoint_set::endpoint_set(const config::settings& s, tasks::task_service& tasks,
                           streams::stream_service& streams, streams::history_service& history,
                           std::function<bool()> redis_up,
                           std::function<std::string()> render_metrics, http::context& http)
    : validator_(s.task.id_pattern, s.task.max_id_length),
      signer_(signer_of(s, s.task.signature_bytes)), statics_(s.http.static_dir),
      task_(tasks, {validator_, signer_.get(), s.http.always_200}), health_(std::move(redis_up)),
      metrics_(std::move(render_metrics)), fallback_(statics_),
      stream_names_(s.stream.name_pattern, signer_.get(), "stream:"),
      publish_signer_(signer_of(s, 32)), history_(history, stream_names_, s.stream.max_count),
      stream_(streams, s.stream, stream_names_, publish_signer_.get(),
              s.history.enabled ? &history_ : nullptr),
      ws_clients_{s.stream.enabled ? &streams : nullptr,
                  &s.stream,
                  &stream_names_,
                  publish_signer_.get(),
                  s.ws.max_subscriptions,
                  s.history.enabled ? &history : nullptr},
      websocket_(
          http,
          [this](http::ws_output& out) {
              return std::make_unique<endpoints::ws_client>(out, ws_clients_);
          },
          http::ws_limits{s.ws.ping, s.ws.max_message_bytes, s.http.max_output_bytes}) {
    register_endpoints(http.routes,
                       {health_, metrics_, task_, fallback_, s.stream.enabled ? &stream_ : nullptr,
                        &websocket_, &s.ws.paths, s.history.enabled ? &history_ : nullptr});
}

void register_endpoints(http::router& routes, const endpoint_refs& e) {
    routes.add_exact("/healthz", e.health);
    routes.add_exact("/metrics", e.metrics);
    routes.add_prefix(std::string(endpoints::task_prefix), e.task);
    if (e.websocket != nullptr && e.websocket_paths != nullptr)
        for (const auto& path : *e.websocket_paths)
            routes.add_exact(path, *e.websocket);
    if (e.stream != nullptr)
        routes.add_prefix(std::string(endpoints::stream_prefix), *e.stream);
    else if (e.history != nullptr)
        routes.add_prefix(std::string(endpoints::stream_prefix), *e.history);
    routes.set_fallback(e.fallback);
}

} // namespace rpd::app
