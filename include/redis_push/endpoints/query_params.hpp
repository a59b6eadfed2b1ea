#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rpd::endpoints {

// `%XX` and `+` (a space in a query) decoded once; nullopt for a broken
// escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

// A query string's `name=value` pairs, decoded, in order (a name without
// `=` has an empty value and `has_value` false). nullopt when an escape is
// broken.
struct query_param {
    std::string name;
    std::string value;
    bool has_value = false;
};
std::optional<std::vector<query_param>> parse_query(std::string_view query);

// A non-negative decimal integer (MODES.md 6), no sign, no space;
// values beyond `max` are clamped to it.
std::optional<std::uint64_t> parse_count(std::string_view s, std::uint64_t max);

} // namespace rpd::endpoints
