#include "redis_push/endpoints/operations_endpoints.hpp"

namespace rpd::endpoints {

using http::request_mode;
using http::request_result;

bool read_only_method(http::method m) {
    return m == http::method::get || m == http::method::head;
}

namespace {
void method_not_allowed(http::exchange& ex) {
    ex.count_as(request_mode::other);
    ex.respond_error(405, "Method Not Allowed", request_result::method_not_allowed);
}
} // namespace

void health_endpoint::serve(http::exchange& ex) {
    if (!read_only_method(ex.req().verb))
        return method_not_allowed(ex);
    ex.count_as(request_mode::operations);
    const bool up = redis_up_();
    ex.respond(up ? 200 : 503, up ? R"({"redis":"up"})" : R"({"redis":"down"})",
               request_result::ok);
}

void metrics_endpoint::serve(http::exchange& ex) {
    if (!read_only_method(ex.req().verb))
        return method_not_allowed(ex);
    ex.count_as(request_mode::operations);
    ex.respond(200, render_(), request_result::ok, "text/plain; version=0.0.4; charset=utf-8");
}

void fallback_endpoint::serve(http::exchange& ex) {
    ex.count_as(request_mode::other);
    if (files_.enabled() && read_only_method(ex.req().verb)) {
        if (auto f = files_.lookup(ex.req().path))
            return ex.respond(200, f->content, request_result::ok, f->content_type);
    }
    ex.respond_error(404, "Not Found", request_result::unknown_path);
}

} // namespace rpd::endpoints
