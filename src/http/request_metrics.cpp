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
    case request_mode::count_:
        break;
    }
    return "other";
}

std::string_view to_string(request_result r) {
    switch (r) {
    case request_result::found:
        return "found";
    case request_result::delivered:
        return "delivered";
    case request_result::not_found:
        return "not_found";
    case request_result::invalid_json:
        return "invalid_json";
    case request_result::unavailable:
        return "unavailable";
    case request_result::killed:
        return "killed";
    case request_result::timed_out:
        return "timed_out";
    case request_result::shutting_down:
        return "shutting_down";
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
    case request_result::count_:
        break;
    }
    return "other";
}

request_result result_of(tasks::outcome o) {
    switch (o) {
    case tasks::outcome::found:
        return request_result::found;
    case tasks::outcome::delivered:
        return request_result::delivered;
    case tasks::outcome::not_found:
        return request_result::not_found;
    case tasks::outcome::invalid_json:
        return request_result::invalid_json;
    case tasks::outcome::unavailable:
        return request_result::unavailable;
    case tasks::outcome::killed:
        return request_result::killed;
    case tasks::outcome::timed_out:
        return request_result::timed_out;
    case tasks::outcome::shutting_down:
        return request_result::shutting_down;
    }
    return request_result::ok;
}

} // namespace rpd::http
