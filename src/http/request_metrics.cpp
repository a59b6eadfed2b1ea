#include "redis_push/http/request_metrics.hpp"

namespace rpd::http {

std::string_view to_string(request_mode m) {
    switch (m) {
    case request_mode::poll:
        return "poll";
    case request_mode::watch:
        return "watch";
    case request_mode::head:
        return "head";
    case request_mode::options:
        return "options";
    case request_mode::operations:
        return "operations";
    case request_mode::other:
        return "other";
    case request_mode::stream:
        return "stream";
    case request_mode::queue:
        return "queue";
    case request_mode::mailbox:
        return "mailbox";
    case request_mode::history:
        return "history";
    case request_mode::count_:
        break;
    }
    return "other";
}

std::string_view to_string(request_result r) {
    if (r < request_result::client_closed)
        return feed::describe(static_cast<feed::end_reason>(r)).metric_label;
    switch (r) {
    case request_result::client_closed:
        return "client_closed";
    case request_result::invalid_task_id:
        return "invalid_task_id";
    case request_result::invalid_signature:
        return "invalid_signature";
    case request_result::invalid_mode:
        return "invalid_mode";
    case request_result::method_not_allowed:
        return "method_not_allowed";
    case request_result::unknown_path:
        return "unknown_path";
    case request_result::bad_request:
        return "bad_request";
    case request_result::too_large:
        return "too_large";
    case request_result::ok:
        return "ok";
    case request_result::invalid_name:
        return "invalid_name";
    case request_result::invalid_parameter:
        return "invalid_parameter";
    case request_result::invalid_message:
        return "invalid_message";
    case request_result::upgraded:
        return "upgraded";
    case request_result::upgrade_required:
        return "upgrade_required";
    case request_result::forbidden:
        return "forbidden";
    default:
        break;
    }
    return "other";
}

} // namespace rpd::http
