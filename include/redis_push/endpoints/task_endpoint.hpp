#pragma once

#include "redis_push/http/endpoint.hpp"
#include "redis_push/tasks/task_id.hpp"
#include "redis_push/tasks/task_service.hpp"
#include "redis_push/tasks/task_signer.hpp"

#include <memory>

namespace rpd::endpoints {

struct task_endpoint_settings {
    const tasks::task_id_validator& validator;
    const tasks::task_signer* signer; // null: ids are not signed
    bool always_200;                  // http.always_200
};

// /task/<id>: poll, watch (long-poll, or SSE when the client accepts
// text/event-stream), preflight.
class task_endpoint final : public http::endpoint {
public:
    task_endpoint(tasks::task_service& tasks, task_endpoint_settings settings)
        : tasks_(tasks), settings_(settings) {}

    void serve(http::exchange& ex) override;

private:
    tasks::task_service& tasks_;
    task_endpoint_settings settings_;
};

// Whether an Accept header asks for text/event-stream.
bool accepts_event_stream(std::string_view accept);

} // namespace rpd::endpoints
