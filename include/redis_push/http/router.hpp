#pragma once

#include "redis_push/tasks/task_id.hpp"
#include "redis_push/tasks/task_signer.hpp"

#include <string_view>

namespace rpd::http {

enum class method { get, head, options, other };

struct route {
    enum class kind {
        task_poll,
        task_watch,
        task_options, // CORS preflight on any /task/... path
        healthz,
        metrics,
        not_found,
        method_not_allowed, // on /task/..., /healthz or /metrics
        invalid_task_id,
        invalid_signature, // signed ids only: missing or wrong signature
        invalid_mode,
    };
    kind type = kind::not_found;
    std::string_view id; // the bare task id (signature removed), a view into the target
};

// Pure: (method, request target) -> what to do. Order of checks: path
// (404), method (405), task id (400), signature (403, when ids are signed),
// mode (400). HEAD is a poll whatever the (valid) mode, because HEAD never
// waits.
class router {
public:
    explicit router(const tasks::task_id_validator& validator,
                    const tasks::task_signer* signer = nullptr)
        : validator_(validator), signer_(signer) {}

    route resolve(method m, std::string_view target) const;

private:
    const tasks::task_id_validator& validator_;
    const tasks::task_signer* signer_; // null: ids are not signed
};

} // namespace rpd::http
