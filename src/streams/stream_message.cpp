#include "redis_push/streams/stream_message.hpp"

#include "redis_push/util/json_depth.hpp"

#include <nlohmann/json.hpp>

namespace rpd::streams {

namespace {
using json = nlohmann::json;

// Printable ASCII without `"` or `\\`: its JSON string is itself, as
// nlohmann would write it. Anything else (escapes, UTF-8, invalid bytes)
// goes through nlohmann, so the output is the same either way.
bool plain_ascii(std::string_view s) {
    for (const unsigned char c : s)
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return false;
    return true;
}

void append_json_string(std::string& out, std::string_view s) {
    if (plain_ascii(s)) {
        out.push_back('"');
        out.append(s).push_back('"');
        return;
    }
    out.append(json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace));
}

// A small decimal integer, which nlohmann would dump digit for digit.
bool plain_integer(std::string_view v) {
    std::size_t i = v.starts_with('-') ? 1 : 0;
    const auto digits = v.size() - i;
    if (digits == 0 || digits > 18 || (v[i] == '0' && (digits > 1 || i == 1)))
        return false;
    for (; i < v.size(); ++i)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
}

// Whether `v` could be JSON at all: valid JSON starts (after blanks) with
// one of these. Most string fields do not, and skip the parser.
bool may_be_json(std::string_view v) {
    const auto first = v.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
        return false;
    const char c = v[first];
    return c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' ||
           c == 'f' || c == 'n';
}

void append_value(std::string& out, std::string_view v) {
    // The common shapes first: they render as nlohmann would render them.
    if (plain_integer(v) || v == "true" || v == "false" || v == "null") {
        out.append(v);
        return;
    }
    if (!may_be_json(v))
        return append_json_string(out, v);
    // Raw NUL is never valid JSON, and nlohmann's lexer would take it for
    // the end of the input; too deep a value could not be dumped.
    if (v.find('\0') != std::string_view::npos || !util::nesting_within(v, util::max_json_depth))
        return append_json_string(out, v);
    auto parsed = json::parse(v.begin(), v.end(), nullptr, false);
    if (parsed.is_discarded())
        return append_json_string(out, v);
    out.append(parsed.dump(-1, ' ', false, json::error_handler_t::replace));
}
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
        append_value(out, fields[i + 1].value);
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
