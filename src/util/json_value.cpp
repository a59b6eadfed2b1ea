#include "redis_push/util/json_value.hpp"

#include "redis_push/util/json_depth.hpp"

#include <nlohmann/json.hpp>

namespace rpd::util {

namespace {
using json = nlohmann::json;

bool may_be_json(std::string_view v) {
    return v.find('\0') == std::string_view::npos && nesting_within(v, max_json_depth);
}

// Printable ASCII without `"` or `\\`: its JSON string is itself, as
// nlohmann would write it. Anything else (escapes, UTF-8, invalid bytes)
// goes through nlohmann, so the output is the same either way.
bool plain_ascii(std::string_view s) {
    for (const unsigned char c : s)
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return false;
    return true;
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

// Valid JSON starts (after blanks) with one of these; most string values
// do not, and skip the parser.
bool may_start_json(std::string_view v) {
    const auto first = v.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
        return false;
    const char c = v[first];
    return c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' ||
           c == 'f' || c == 'n';
}
} // namespace

bool is_json(std::string_view v) {
    return may_be_json(v) && json::accept(v.begin(), v.end());
}

void append_json_string(std::string& out, std::string_view s) {
    if (plain_ascii(s)) {
        out.push_back('"');
        out.append(s).push_back('"');
        return;
    }
    out.append(json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace));
}

// The common shapes first (plain integers, literals, values that cannot be
// JSON): they come out byte for byte as the parser would write them, at a
// fraction of its cost (a history page renders thousands per request).
void append_json_value(std::string& out, std::string_view v) {
    if (plain_integer(v) || v == "true" || v == "false" || v == "null") {
        out.append(v);
        return;
    }
    if (!may_start_json(v) || !may_be_json(v))
        return append_json_string(out, v);
    auto parsed = json::parse(v.begin(), v.end(), nullptr, false);
    if (parsed.is_discarded())
        return append_json_string(out, v);
    out.append(parsed.dump(-1, ' ', false, json::error_handler_t::replace));
}

} // namespace rpd::util
