#include "redis_push/endpoints/task_endpoint.hpp"

#include "redis_push/endpoints/task_request.hpp"

#include <boost/beast/core/string.hpp>

namespace rpd::endpoints {

bool accepts_event_stream(std::string_view accept) {
    // A media range list; matched without case, parameters ignored.
    constexpr std::string_view wanted = "text/event-stream";
    while (!accept.empty()) {
        const auto comma = accept.find(',');
        auto range = accept.substr(0, comma);
        range = range.substr(0, range.find(';'));
        while (!range.empty() && (range.front() == ' ' || range.front() == '\t'))
            range.remove_prefix(1);
        while (!range.empty() && (range.back() == ' ' || range.back() == '\t'))
            range.remove_suffix(1);
        if (boost::beast::iequals(range, wanted))
            return true;
        if (comma == std::string_view::npos)
            break;
        accept.remove_prefix(comma + 1);
    }
    return false;
}

void task_endpoint::serve(http::exchange& ex) {
    using kind = task_request::kind;
    using http::request_result;
    if (settings_.always_200)
        ex.answer_with_200();
    const auto& req = ex.req();
    const auto r =
        parse_task_request(req.verb, req.path, req.query, settings_.validator, settings_.signer);
    switch (r.type) {
    case kind::method_not_allowed:
        ex.count_as(http::request_mode::other);
        return ex.respond_error(405, "Method Not Allowed", request_result::method_not_allowed);
    case kind::options:
        return ex.respond_preflight();
    case kind::invalid_task_id:
        return ex.respond_error(400, "Invalid task id", request_result::invalid_task_id);
    case kind::invalid_signature:
        return ex.respond_error(403, "Invalid signature", request_result::invalid_signature);
    case kind::invalid_mode:
        return ex.respond_error(400, "Invalid mode", request_result::invalid_mode);
    case kind::poll:
        // r.id points into the request: the poll copies it before hold() lets go.
        return ex.hold(http::transport::long_poll,
                       [&](feed::sink& sink) { return tasks_.poll(r.id, sink); });
    case kind::watch: {
        ex.count_as(http::request_mode::watch);
        const bool sse = accepts_event_stream(req.header(boost::beast::http::field::accept));
        return ex.hold(sse ? http::transport::sse : http::transport::long_poll,
                       [&](feed::sink& sink) {
                           return tasks_.start_watch(r.id, sink, tasks::watch_options{sse});
                       });
    }
    }
}

} // namespace rpd::endpoints
