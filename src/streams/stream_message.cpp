#include "redis_push/streams/stream_message.hpp"

#include "redis_push/util/json_depth.hpp"
#include "redis_push/util/json_value.hpp"

#include <nlohmann/json.hpp>

namespace rpd::streams {

namespace {
using nlohmann::json;
using util::append_json_string;
using util::append_json_value;
} // namespace

std::string render_message(std::string_view offset, const redis::reply& fields) {
    std::string out;
    out.reserve(32 + offset.size() + fields.size() * 16);
    append_message(out, offset, fields);
    return out;
}

void append_message(std::string& out, std::string_view offset, const redis::reply& fields) {
    out.append("{\"offset\":\"").append(offset).push_back('"');
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        const auto name = fields[i].value;
        if (name == "offset")
            continue;
        out.push_back(',');
        append_json_string(out, name);
        out.push_back(':');
        append_json_value(out, fields[i + 1].value);
    }
    out.push_back('}');
}

std::optional<message> parse_entry(const redis::reply& entry) {
    using kind = redis::reply::kind;
    if (entry.type != kind::array || entry.size() != 2)
        return std::nullopt;
    const auto id_reply = entry[0];
    const auto fields = entry[1];
    if (id_reply.type != kind::value || fields.type != kind::array)
        return std::nullopt;
    const auto id = parse_stream_id(id_reply.value);
    if (!id)
        return std::nullopt;
    return message{*id, std::string(id_reply.value), render_message(id_reply.value, fields)};
}

message_batch parse_entries(const redis::reply& entries) {
    message_batch out;
    out.reserve(entries.size());
    for (const auto e : entries)
        if (auto m = parse_entry(e))
            out.push_back(std::move(*m));
    return out;
}

std::optional<field_list> publish_fields(std::string_view body) {
    if (body.find('\0') != std::string_view::npos ||
        !util::nesting_within(body, util::max_json_depth))
        return std::nullopt;
    const auto v = json::parse(body.begin(), body.end(), nullptr, false);
    // An entry needs a field: XADD refuses an empty one.
    if (!v.is_object() || v.empty())
        return std::nullopt;
    field_list out;
    out.reserve(v.size());
    for (const auto& [name, value] : v.items())
        out.emplace_back(name, value.is_string()
                                   ? value.get<std::string>()
                                   : value.dump(-1, ' ', false, json::error_handler_t::replace));
    return out;
}

} // namespace rpd::streams
