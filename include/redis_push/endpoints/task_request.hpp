#pragma once

#include "redis_push/http/request.hpp"
#include "redis_push/tasks/task_id.hpp"
#include "redis_push/tasks/task_signer.hpp"

#include <string_view>

namespace rpd::endpoints {

inline constexpr std::string_view task_prefix = "/task/";

// What a request under /task/ asks (PROTOCOL.md §2).
struct task_request {
    enum class kind {
        poll,
        watch,
        options, // CORS preflight on any /task/... path
        method_not_allowed,
        invalid_task_id,
        invalid_signature, // signed ids only: missing or wrong signature
        invalid_mode,
    };
    kind type = kind::invalid_task_id;
    std::string_view id; // the bare id (signature removed), a view into the path
};

// Pure. Order of checks: method (405), task id (400), signature (403, when
// ids are signed), mode (400). HEAD is a poll whatever the (valid) mode,
// because HEAD never waits. `path` starts with task_prefix.
task_request parse_task_request(http::method m, std::string_view path, std::string_view query,
                                const tasks::task_id_validator& validator,
                                const tasks::task_signer* signer);

} // namespace rpd::endpoints
