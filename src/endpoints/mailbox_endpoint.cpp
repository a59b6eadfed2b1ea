#include "redis_push/endpoints/mailbox_endpoint.hpp"

#include "redis_push/endpoints/wait_request.hpp"
#include "redis_push/feed/pending_answer.hpp"

namespace rpd::endpoints {

namespace {
using http::request_result;
} // namespace

void mailbox_endpoint::serve(http::exchange& ex) {
    ex.count_as(http::request_mode::mailbox);
    const auto& req = ex.req();
    if (req.verb == http::method::options)
        return ex.respond_preflight();
    const auto segment = req.path.substr(mailbox_prefix.size());
    if (segment.find('/') != std::string_view::npos)
        return ex.respond_error(404, "Not Found", request_result::unknown_path);
    if (req.verb != http::method::get && req.verb != http::method::head)
        return ex.respond_error(405, "Method Not Allowed", request_result::method_not_allowed);
    const auto name = resolve_or_refuse(names_, ex, segment);
    if (!name)
        return;

    if (req.verb == http::method::head)
        return ex.hold(http::transport::item, [&](feed::sink& sink) {
            auto pending = std::make_shared<feed::pending_answer>(sink);
            mailboxes_.length(*name, [pending](std::optional<long long> n) {
                if (!n)
                    return pending->finish(feed::end_reason::unavailable, {});
                if (*n < 0)
                    return pending->finish(feed::end_reason::wrong_type, {});
                pending->event("length", std::to_string(*n));
                pending->finish(feed::end_reason::found, {});
            });
            return feed::handle(pending);
        });

    const auto r = parse_wait_request(req.query, settings_.timeout, settings_.max_timeout);
    if (!r)
        return ex.respond_error(400, "Invalid parameter", request_result::invalid_parameter);
    ex.may_wait();
    ex.hold(http::transport::item,
            [&](feed::sink& sink) { return mailboxes_.wait(*name, sink, r->wait); });
}

} // namespace rpd::endpoints
