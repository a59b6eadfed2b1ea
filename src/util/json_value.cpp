#include "redis_push/util/json_value.hpp"

#include "redis_push/util/json_depth.hpp"

#include <nlohmann/json.hpp>

namespace rpd::util {

namespace {
using json = nlohmann::json;

bool may_be_json(std::string_view v) {
    return v.find('\0') == std::string_view::npos && nesting_within(v, max_json_depth);
}
} // namespace

bool is_json(std::string_view v) {
    return may_be_json(v) && json::accept(v.begin(), v.end());
}

void append_json_string(std::string& out, std::string_view s) {
    out.append(json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace));
}

void append_json_value(std::string& out, std::string_view v) {
    if (!may_be_json(v))
        return append_json_string(out, v);
    auto parsed = json::parse(v.begin(), v.end(), nullptr, false);
    if (parsed.is_discarded())
        return append_json_string(out, v);
    out.append(parsed.dump(-1, ' ', false, json::error_handler_t::replace));
}

} // namespace rpd::util
