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

endpoint_set::endpoint_set(const config::settings& s, const mode_services& modes,
                           std::function<bool()> redis_up,
                           std::function<std::string()> render_metrics, http::context& http)
    : validator_(s.task.id_pattern, s.task.max_id_length),
      signer_(signer_of(s, s.task.signature_bytes)), statics_(s.http.static_dir),
      task_(modes.tasks, {validator_, signer_.get(), s.http.always_200}),
      health_(std::move(redis_up)), metrics_(std::move(render_metrics)), fallback_(statics_),
      stream_names_(s.stream.name_pattern, signer_.get(), "stream:"),
      publish_signer_(signer_of(s, 32)), history_(modes.history, stream_names_, s.stream.max_count),
      stream_(modes.streams, s.stream, stream_names_, publish_signer_.get(),
              s.history.enabled ? &history_ : nullptr),
      queue_names_(s.queue.name_pattern, signer_.get(), "queue:"),
      queue_(modes.queues, s.queue, queue_names_, publish_signer_.get()),
      mailbox_names_(s.mailbox.name_pattern, signer_.get(), "mailbox:"),
      mailbox_(modes.mailboxes, s.mailbox, mailbox_names_),
      ws_clients_{s.stream.enabled ? &modes.streams : nullptr,
                  &s.stream,
                  &stream_names_,
                  publish_signer_.get(),
                  s.ws.max_subscriptions,
                  s.mailbox.enabled ? &modes.mailboxes : nullptr,
                  &mailbox_names_,
                  s.history.enabled ? &modes.history : nullptr},
      websocket_(
          http,
          [this](http::ws_output& out) {
              return std::make_unique<endpoints::ws_client>(out, ws_clients_);
          },
          http::ws_limits{s.ws.ping, s.ws.max_message_bytes, s.http.max_output_bytes}) {
    register_endpoints(
        http.routes, {health_, metrics_, task_, fallback_, s.stream.enabled ? &stream_ : nullptr,
                      s.queue.enabled ? &queue_ : nullptr, s.mailbox.enabled ? &mailbox_ : nullptr,
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
    if (e.queue != nullptr)
        routes.add_prefix(std::string(endpoints::queue_prefix), *e.queue);
    if (e.mailbox != nullptr)
        routes.add_prefix(std::string(endpoints::mailbox_prefix), *e.mailbox);
    routes.set_fallback(e.fallback);
}

} // namespace rpd::app
