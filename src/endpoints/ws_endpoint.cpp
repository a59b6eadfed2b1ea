#include "redis_push/endpoints/ws_endpoint.hpp"

#include "redis_push/http/websocket_session.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace rpd::endpoints {

using http::request_mode;
using http::request_result;

namespace {
bool has_token(std::string_view list, std::string_view token) {
    return boost::beast::http::token_list(list).exists(token);
}

// What Beast's websocket::is_upgrade checks, on the request's views (Beast
// answers a bad version or key itself while accepting).
bool is_upgrade(const http::request& r) {
    using boost::beast::http::field;
    return r.verb == http::method::get && has_token(r.header(field::connection), "upgrade") &&
           has_token(r.header(field::upgrade), "websocket");
}
} // namespace

bool origin_is_host(std::string_view origin, std::string_view host) {
    const auto scheme = origin.find("://");
    if (scheme == std::string_view::npos || host.empty())
        return false;
    return boost::beast::iequals(origin.substr(scheme + 3), host);
}

void ws_endpoint::serve(http::exchange& ex) {
    using boost::beast::http::field;
    ex.count_as(request_mode::other);
    const auto& r = ex.req();
    if (!is_upgrade(r))
        return ex.respond_error(426, "Upgrade Required", request_result::upgrade_required);
    const auto origin = r.header(field::origin);
    if (!origin.empty() && !origin_is_host(origin, r.header(field::host)) &&
        !ctx_.live.cors.allows(origin))
        return ex.respond_error(403, "Forbidden", request_result::forbidden);
    ex.take_over(request_result::upgraded, [this](http::taken_connection&& c) {
        http::start_websocket_session(std::move(c), ctx_, factory_, limits_);
    });
}

} // namespace rpd::endpoints
