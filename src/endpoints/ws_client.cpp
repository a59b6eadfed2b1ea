#include "redis_push/endpoints/ws_client.hpp"

#include "redis_push/util/json_depth.hpp"

#include <nlohmann/json.hpp>

namespace rpd::endpoints {

namespace {
using json = nlohmann::json;

template <class J> std::string dump(const J& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

const std::string* string_member(const json& m, const char* name) {
    const auto it = m.find(name);
    return it != m.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}
} // namespace

ws_client::ws_client(http::ws_output& out, const ws_client_settings& settings)
    : out_(out), settings_(settings), alive_(std::make_shared<char>()),
      fetches_(out, settings.history, settings.stream_names, settings.max_subscriptions) {}

ws_client::~ws_client() = default;

void ws_client::error(std::string_view text, const std::string& id) {
    out_.send_text(http::ws_error_frame(text, id));
}

void ws_client::on_message(std::string_view text) {
    forget_ended();
    // Too deep to be echoed or dumped safely: as good as unparsable.
    if (text.find('\0') != std::string_view::npos ||
        !util::nesting_within(text, util::max_json_depth))
        return error("Invalid JSON", {});
    const auto m = json::parse(text.begin(), text.end(), nullptr, false);
    if (m.is_discarded() || !m.is_object())
        return error("Invalid JSON", {});
    const auto id_it = m.find("id");
    const std::string id = id_it == m.end() ? std::string() : dump(*id_it);
    if (const auto* event = string_member(m, "event"); event != nullptr && *event == "identify")
        return identify(m);
    const auto* type = string_member(m, "type");
    if (type == nullptr)
        return error("Unknown type", id);
    if (fetches_.handle(*type, m, id))
        return;
    if (*type == "subscribe")
        return subscribe(m, id);
    if (*type == "unsubscribe")
        return unsubscribe(m, id);
    if (*type == "publish")
        return publish(m, id);
    if (*type == "ack")
        return ack(m, id);
    error("Unknown type", id);
}

std::optional<std::string> ws_client::stream_of(const json& m, const std::string& id) {
    if (settings_.streams == nullptr) {
        error("Stream mode is switched off", id);
        return std::nullopt;
    }
    const auto* raw = string_member(m, "stream");
    if (raw == nullptr) {
        error("Invalid name", id);
        return std::nullopt;
    }
    auto r = settings_.stream_names->resolve(*raw, false);
    using kind = mode_names::result::kind;
    if (r.type != kind::ok) {
        error(r.type == kind::invalid_name ? "Invalid name" : "Invalid signature", id);
        return std::nullopt;
    }
    return std::move(r.name);
}

void ws_client::subscribe(const json& m, const std::string& id) {
    const auto name = stream_of(m, id);
    if (!name)
        return;
    if (subscriptions_.contains(*name))
        return error("already subscribed", id);
    if (subscriptions_.size() >= settings_.max_subscriptions)
        return error("Too many subscriptions", id);
    const auto* group = string_member(m, "group");
    const auto* consumer = string_member(m, "consumer");
    std::optional<streams::offset> from;
    if (group == nullptr && consumer == nullptr) {
        const auto it = m.find("offset");
        if (it == m.end()) {
            from = streams::offset{true, {}};
        } else if (it->is_string()) {
            from = streams::parse_offset(it->get<std::string>(), true);
        } else if (it->is_number_unsigned() && it->get<std::uint64_t>() == 0) {
            from = streams::offset{false, {}};
        }
        if (!from)
            return error("Invalid parameter", id);
    } else if (group == nullptr || consumer == nullptr || group->empty() || consumer->empty()) {
        return error("Invalid parameter", id);
    }
    auto [it, inserted] = subscriptions_.try_emplace(*name);
    auto& sub = it->second;
    sub.sink = std::make_unique<http::ws_stream_sink>(
        out_, string_member(m, "stream") ? *string_member(m, "stream") : *name, id,
        [flag = &sub.ended] { *flag = true; });
    if (from) {
        streams::subscribe_options options;
        options.from = *from;
        sub.feed = settings_.streams->subscribe(*name, *sub.sink, options);
        return;
    }
    streams::group_options options;
    options.group = *group;
    options.consumer = *consumer;
    options.count = settings_.stream->max_count;
    options.one_shot = false;
    const auto* start = string_member(m, "start");
    options.start_at_zero = start != nullptr && *start == "0";
    sub.feed = settings_.streams->read_group(*name, *sub.sink, std::move(options));
}

void ws_client::unsubscribe(const json& m, const std::string& id) {
    const auto name = stream_of(m, id);
    if (!name)
        return;
    const auto it = subscriptions_.find(*name);
    if (it == subscriptions_.end())
        return error("not subscribed", id);
    subscriptions_.erase(it);
    nlohmann::ordered_json frame{{"type", "unsubscribed"}, {"stream", *string_member(m, "stream")}};
    if (!id.empty())
        frame["id"] = nlohmann::ordered_json::parse(id);
    out_.send_text(dump(frame));
}

void ws_client::publish(const json& m, const std::string& id) {
    const auto name = stream_of(m, id);
    if (!name)
        return;
    if (!settings_.stream->allow_publish)
        return error("Method Not Allowed", id);
    if (settings_.publish_signer != nullptr) {
        const auto* token = string_member(m, "token");
        if (token == nullptr || !settings_.publish_signer->verify("publish:" + *name, *token))
            return error("Forbidden", id);
    }
    const auto fields_it = m.find("fields");
    if (fields_it == m.end() || !fields_it->is_object())
        return error("Invalid message", id);
    std::uint32_t maxlen = settings_.stream->maxlen;
    if (const auto it = m.find("maxlen"); it != m.end()) {
        if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<std::int64_t>() >= 0))
            return error("Invalid parameter", id);
        const auto n = std::min<std::uint64_t>(it->get<std::uint64_t>(), 2147483647);
        if (n > 0 && (maxlen == 0 || n < maxlen))
            maxlen = static_cast<std::uint32_t>(n);
    }
    const auto fields = streams::publish_fields(dump(*fields_it));
    if (!fields) // an empty object: no entry without a field
        return error("Invalid message", id);
    std::string stream = *string_member(m, "stream");
    settings_.streams->publish(
        *name, *fields, maxlen,
        [this, alive = std::weak_ptr<char>(alive_), stream, id](const auto& r) {
            if (alive.expired())
                return;
            using kind = streams::stream_service::publish_result::kind;
            if (r.type != kind::published)
                return error(r.type == kind::wrong_type ? "Wrong type of Redis key"
                                                        : "Redis unavailable",
                             id);
            nlohmann::ordered_json frame{
                {"type", "published"}, {"stream", stream}, {"offset", r.offset}};
            if (!id.empty())
                frame["id"] = nlohmann::ordered_json::parse(id);
            out_.send_text(dump(frame));
        });
}

void ws_client::ack(const json& m, const std::string& id) {
    const auto name = stream_of(m, id);
    if (!name)
        return;
    const auto* group = string_member(m, "group");
    const auto offsets = m.find("offsets");
    if (group == nullptr || group->empty() || offsets == m.end() || !offsets->is_array())
        return error("Invalid parameter", id);
    std::vector<std::string> ids;
    for (const auto& o : *offsets) {
        if (!o.is_string() || !streams::parse_stream_id(o.get<std::string>()))
            return error("Invalid parameter", id);
        ids.push_back(o.get<std::string>());
    }
    std::string stream = *string_member(m, "stream");
    auto answer = [this, alive = std::weak_ptr<char>(alive_), stream, id](long long n) {
        if (alive.expired())
            return;
        nlohmann::ordered_json frame{{"type", "acked"}, {"stream", stream}, {"acked", n}};
        if (!id.empty())
            frame["id"] = nlohmann::ordered_json::parse(id);
        out_.send_text(dump(frame));
    };
    if (ids.empty())
        return answer(0);
    settings_.streams->ack(
        *name, *group, ids, [this, alive = std::weak_ptr<char>(alive_), id, answer](const auto& r) {
            if (alive.expired())
                return;
            using kind = streams::stream_service::ack_result::kind;
            if (r.type == kind::acked)
                return answer(r.count);
            error(r.type == kind::wrong_type ? "Wrong type of Redis key" : "Redis unavailable", id);
        });
}

// A subscription that ended by itself (an error) frees its place; done
// here, not from inside its sink.
void ws_client::forget_ended() {
    std::erase_if(subscriptions_, [](const auto& entry) { return entry.second.ended; });
}

} // namespace rpd::endpoints
