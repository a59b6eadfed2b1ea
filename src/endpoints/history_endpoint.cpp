#include "redis_push/endpoints/history_endpoint.hpp"

#include "redis_push/endpoints/history_request.hpp"
#include "redis_push/endpoints/stream_endpoint.hpp"

namespace rpd::endpoints {

void history_endpoint::serve(http::exchange& ex) {
    using http::request_result;
    ex.count_as(http::request_mode::history);
    const auto& req = ex.req();
    auto rest = req.path.substr(std::min(req.path.size(), stream_prefix.size()));
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || rest.substr(slash) != history_suffix)
        return ex.respond_error(404, "Not Found", request_result::unknown_path);
    if (req.verb == http::method::options)
        return ex.respond_preflight();
    if (req.verb != http::method::get && req.verb != http::method::head)
        return ex.respond_error(405, "Method Not Allowed", request_result::method_not_allowed);
    const auto name = resolve_or_refuse(names_, ex, rest.substr(0, slash));
    if (!name)
        return;
    auto page = parse_history_request(req.query, max_limit_);
    if (!page)
        return ex.respond_error(400, "Invalid parameter", request_result::invalid_parameter);
    ex.hold(http::transport::page,
            [&](feed::sink& sink) { return history_.read_page(*name, sink, std::move(*page)); });
}

} // namespace rpd::endpoints
