#include "redis_push/endpoints/stream_endpoint.hpp"

#include "redis_push/endpoints/answer_later.hpp"
#include "redis_push/endpoints/publish_token.hpp"
#include "redis_push/endpoints/query_params.hpp"
#include "redis_push/endpoints/stream_read_request.hpp"
#include "redis_push/endpoints/task_endpoint.hpp"

#include "redis_push/util/json_depth.hpp"

#include <nlohmann/json.hpp>

namespace rpd::endpoints {

namespace {
using boost::beast::http::field;
using http::request_result;

void invalid_parameter(http::exchange& ex) {
    ex.respond_error(400, "Invalid parameter", request_result::invalid_parameter);
}
} // namespace

void stream_endpoint::serve(http::exchange& ex) {
    const auto& req = ex.req();
    auto rest = req.path.substr(stream_prefix.size());
    const auto slash = rest.find('/');
    const auto segment = rest.substr(0, slash);
    const auto tail = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    if (tail == history_suffix && history_ != nullptr)
        return history_->serve(ex);
    ex.count_as(http::request_mode::stream);
    if (req.verb == http::method::options)
        return ex.respond_preflight(tail == "/ack" || (tail.empty() && settings_.allow_publish));
    if (!tail.empty() && tail != "/ack")
        return ex.respond_error(404, "Not Found", request_result::unknown_path);
    const bool post = req.verb == http::method::post;
    const bool read_verb = req.verb == http::method::get || req.verb == http::method::head;
    if (tail.empty() ? !(read_verb || (post && settings_.allow_publish)) : !post)
        return ex.respond_error(405, "Method Not Allowed", request_result::method_not_allowed);

    const auto name = resolve_or_refuse(names_, ex, segment);
    if (!name)
        return;
    if (!tail.empty())
        return ack(ex, *name);
    if (post)
        return publish(ex, *name);
    read(ex, *name);
}

void stream_endpoint::read(http::exchange& ex, const std::string& name) {
    const auto& req = ex.req();
    const auto parsed =
        parse_stream_read(req.query, req.header(std::string_view("Last-Event-ID")),
                          accepts_event_stream(req.header(field::accept)), settings_);
    if (!parsed)
        return invalid_parameter(ex);
    const auto& r = *parsed;
    if (req.verb == http::method::head) {
        // HEAD never waits: the cursor headers of a look at once.
        auto options = r.subscribe;
        options.one_shot = true;
        options.wait = {};
        return ex.hold(http::transport::batch,
                       [&](feed::sink& sink) { return streams_.subscribe(name, sink, options); });
    }
    ex.may_wait();
    if (r.group)
        return ex.hold(http::transport::batch,
                       [&](feed::sink& sink) { return streams_.read_group(name, sink, *r.group); });
    ex.hold(r.sse ? http::transport::sse : http::transport::batch,
            [&](feed::sink& sink) { return streams_.subscribe(name, sink, r.subscribe); });
}

void stream_endpoint::publish(http::exchange& ex, const std::string& name) {
    const auto& req = ex.req();
    if (!publish_allowed(req, publish_signer_, name))
        return ex.respond_error(403, "Forbidden", request_result::forbidden);
    auto fields = streams::publish_fields(req.body);
    if (!fields)
        return ex.respond_error(400, "Invalid message", request_result::invalid_message);
    std::uint32_t maxlen = settings_.maxlen;
    if (const auto params = parse_query(req.query)) {
        for (const auto& p : *params)
            if (p.name == "maxlen") {
                const auto n = parse_count(p.value, 2147483647);
                if (!n)
                    return invalid_parameter(ex);
                if (*n > 0 && (maxlen == 0 || *n < maxlen))
                    maxlen = static_cast<std::uint32_t>(*n);
            }
    } else {
        return invalid_parameter(ex);
    }
    answer_later(ex, http::transport::long_poll,
                 [&](std::shared_ptr<feed::pending_answer> pending) {
                     streams_.publish(name, *fields, maxlen, [pending](const auto& r) {
                         using kind = streams::stream_service::publish_result::kind;
                         if (r.type == kind::published)
                             return pending->finish(feed::end_reason::created,
                                                    nlohmann::json{{"offset", r.offset}}.dump());
                         pending->finish(r.type == kind::wrong_type ? feed::end_reason::wrong_type
                                                                    : feed::end_reason::unavailable,
                                         {});
                     });
                 });
}

void stream_endpoint::ack(http::exchange& ex, const std::string& name) {
    const auto& req = ex.req();
    std::string group;
    const auto params = parse_query(req.query);
    if (!params)
        return invalid_parameter(ex);
    for (const auto& p : *params)
        if (p.name == "group")
            group = p.value;
    if (group.empty())
        return invalid_parameter(ex);
    const auto body = util::nesting_within(req.body, util::max_json_depth)
                          ? nlohmann::json::parse(req.body, nullptr, false)
                          : nlohmann::json();
    if (!body.is_array())
        return ex.respond_error(400, "Invalid message", request_result::invalid_message);
    std::vector<std::string> ids;
    for (const auto& v : body) {
        if (!v.is_string() || !streams::parse_stream_id(v.get<std::string>()))
            return invalid_parameter(ex);
        ids.push_back(v.get<std::string>());
    }
    if (ids.empty())
        return ex.respond(200, R"({"acked":0})", request_result::ok);
    answer_later(ex, http::transport::long_poll,
                 [&](std::shared_ptr<feed::pending_answer> pending) {
                     streams_.ack(name, group, ids, [pending](const auto& r) {
                         using kind = streams::stream_service::ack_result::kind;
                         if (r.type == kind::acked)
                             return pending->finish(feed::end_reason::found,
                                                    nlohmann::json{{"acked", r.count}}.dump());
                         pending->finish(r.type == kind::wrong_type ? feed::end_reason::wrong_type
                                                                    : feed::end_reason::unavailable,
                                         {});
                     });
                 });
}

} // namespace rpd::endpoints
