#include "redis_push/endpoints/task_request.hpp"

namespace rpd::endpoints {

task_request parse_task_request(http::method m, std::string_view path, std::string_view query,
                                const tasks::task_id_validator& validator,
                                const tasks::task_signer* signer) {
    using kind = task_request::kind;
    using http::method;
    if (m == method::other || m == method::post)
        return {kind::method_not_allowed, {}};
    if (m == method::options)
        return {kind::options, {}};

    std::string_view id = path.substr(task_prefix.size());
    if (id.find('/') != std::string_view::npos)
        return {kind::invalid_task_id, id};
    if (signer != nullptr) {
        const auto parts = tasks::task_signer::split(id);
        if (!validator.valid(parts.id))
            return {kind::invalid_task_id, parts.id};
        if (!signer->verify(parts.id, parts.signature))
            return {kind::invalid_signature, parts.id};
        id = parts.id;
    } else if (!validator.valid(id)) {
        return {kind::invalid_task_id, id};
    }

    if (query.empty() || query == "poll")
        return {kind::poll, id};
    if (query == "watch")
        return {m == method::head ? kind::poll : kind::watch, id};
    return {kind::invalid_mode, id};
}

} // namespace rpd::endpoints
