#include "redis_push/endpoints/queue_endpoint.hpp"

#include "redis_push/endpoints/answer_later.hpp"
#include "redis_push/endpoints/publish_token.hpp"
#include "redis_push/endpoints/wait_request.hpp"

#include <algorithm>

namespace rpd::endpoints {

namespace {
using http::request_result;
using outcome = queues::queue_service::outcome;

constexpr std::string_view ack_path = "/ack/";

// A delivery id as the daemon makes them (MODES.md 6: URL-safe).
bool valid_delivery_id(std::string_view id) {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

feed::end_reason failure(outcome o) {
    return o == outcome::wrong_type ? feed::end_reason::wrong_type : feed::end_reason::unavailable;
}
} // namespace

void queue_endpoint::serve(http::exchange& ex) {
    ex.count_as(http::request_mode::queue);
    const auto& req = ex.req();
    const auto rest = req.path.substr(queue_prefix.size());
    const auto slash = rest.find('/');
    const auto segment = rest.substr(0, slash);
    const auto tail = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    if (req.verb == http::method::options)
        return ex.respond_preflight(!tail.empty() || settings_.allow_publish);
    const bool post = req.verb == http::method::post;
    if (!tail.empty()) {
        if (!tail.starts_with(ack_path))
            return ex.respond_error(404, "Not Found", request_result::unknown_path);
        if (!post)
            return ex.respond_error(405, "Method Not Allowed", request_result::method_not_allowed);
    } else if (!(req.verb == http::method::get || req.verb == http::method::head ||
                 (post && settings_.allow_publish))) {
        return ex.respond_error(405, "Method Not Allowed", request_result::method_not_allowed);
    }

    const auto name = resolve_or_refuse(names_, ex, segment);
    if (!name)
        return;
    if (!tail.empty())
        return ack(ex, *name, tail.substr(ack_path.size()));
    if (post)
        return publish(ex, *name);
    if (req.verb == http::method::head)
        return length(ex, *name);
    take(ex, *name);
}

void queue_endpoint::take(http::exchange& ex, const std::string& name) {
    const auto r = parse_wait_request(ex.req().query, settings_.timeout, settings_.max_timeout);
    if (!r)
        return ex.respond_error(400, "Invalid parameter", request_result::invalid_parameter);
    ex.may_wait();
    ex.hold(http::transport::item, [&](feed::sink& sink) {
        return queues_.take(name, sink, {r->acknowledged, r->wait});
    });
}

void queue_endpoint::length(http::exchange& ex, const std::string& name) {
    answer_later(ex, http::transport::item, [&](std::shared_ptr<feed::pending_answer> pending) {
        queues_.length(name, [pending](const queues::queue_service::result& r) {
            if (r.type != outcome::done)
                return pending->finish(failure(r.type), {});
            pending->event("length", std::to_string(r.count));
            pending->finish(feed::end_reason::found, {});
        });
    });
}

void queue_endpoint::publish(http::exchange& ex, const std::string& name) {
    const auto& req = ex.req();
    if (!publish_allowed(req, publish_signer_, name))
        return ex.respond_error(403, "Forbidden", request_result::forbidden);
    if (req.body.size() > settings_.max_message_bytes)
        return ex.respond_error(413, "Request too large", request_result::too_large);
    answer_later(ex, http::transport::item, [&](std::shared_ptr<feed::pending_answer> pending) {
        queues_.publish(name, req.body, [pending](const queues::queue_service::result& r) {
            if (r.type != outcome::done)
                return pending->finish(failure(r.type), {});
            pending->event("json", "{\"length\":" + std::to_string(r.count) + "}");
            pending->finish(feed::end_reason::created, {});
        });
    });
}

void queue_endpoint::ack(http::exchange& ex, const std::string& name,
                         std::string_view delivery_id) {
    if (!valid_delivery_id(delivery_id))
        return ex.respond_error(404, "Not Found", request_result::not_found);
    answer_later(ex, http::transport::item, [&](std::shared_ptr<feed::pending_answer> pending) {
        queues_.ack(name, delivery_id, [pending](const queues::queue_service::result& r) {
            if (r.type == outcome::done)
                return pending->finish(feed::end_reason::acknowledged, {});
            pending->finish(
                r.type == outcome::not_found ? feed::end_reason::not_found : failure(r.type), {});
        });
    });
}

} // namespace rpd::endpoints
