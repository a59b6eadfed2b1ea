#include "redis_push/app/endpoints.hpp"

#include "redis_push/endpoints/task_request.hpp"

namespace rpd::app {

endpoint_set::endpoint_set(const config::settings& s, tasks::task_service& tasks,
                           std::function<bool()> redis_up,
                           std::function<std::string()> render_metrics, http::router& routes)
    : validator_(s.task.id_pattern, s.task.max_id_length),
      signer_(s.task.signing_secret.empty() ? nullptr
                                            : std::make_unique<tasks::task_signer>(
                                                  s.task.signing_secret, s.task.signature_bytes)),
      statics_(s.http.static_dir), task_(tasks, {validator_, signer_.get(), s.http.always_200}),
      health_(std::move(redis_up)), metrics_(std::move(render_metrics)), fallback_(statics_) {
    register_endpoints(routes, {health_, metrics_, task_, fallback_});
}

void register_endpoints(http::router& routes, const endpoint_refs& e) {
    routes.add_exact("/healthz", e.health);
    routes.add_exact("/metrics", e.metrics);
    routes.add_prefix(std::string(endpoints::task_prefix), e.task);
    routes.set_fallback(e.fallback);
}

} // namespace rpd::app
