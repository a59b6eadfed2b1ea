#include "redis_push/http/router.hpp"

namespace rpd::http {

namespace {
constexpr std::string_view task_prefix = "/task/";
}

route router::resolve(method m, std::string_view target) const {
    const auto question = target.find('?');
    const std::string_view path = target.substr(0, question);
    const bool has_query = question != std::string_view::npos;
    const std::string_view query = has_query ? target.substr(question + 1) : std::string_view{};

    if (path == "/healthz" || path == "/metrics") {
        if (m != method::get && m != method::head)
            return {route::kind::method_not_allowed, {}};
        return {path == "/healthz" ? route::kind::healthz : route::kind::metrics, {}};
    }
    if (!path.starts_with(task_prefix))
        return {route::kind::not_found, {}};
    if (m == method::other)
        return {route::kind::method_not_allowed, {}};
    if (m == method::options)
        return {route::kind::task_options, {}};

    std::string_view id = path.substr(task_prefix.size());
    if (id.find('/') != std::string_view::npos)
        return {route::kind::invalid_task_id, id};
    if (signer_ != nullptr) {
        const auto parts = tasks::task_signer::split(id);
        if (!validator_.valid(parts.id))
            return {route::kind::invalid_task_id, parts.id};
        if (!signer_->verify(parts.id, parts.signature))
            return {route::kind::invalid_signature, parts.id};
        id = parts.id;
    } else if (!validator_.valid(id)) {
        return {route::kind::invalid_task_id, id};
    }

    if (query.empty() || query == "poll")
        return {route::kind::task_poll, id};
    if (query == "watch")
        return {m == method::head ? route::kind::task_poll : route::kind::task_watch, id};
    return {route::kind::invalid_mode, id};
}

} // namespace rpd::http
