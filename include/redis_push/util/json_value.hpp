#pragma once

#include <string>
#include <string_view>

namespace rpd::util {

// Whether a stored value counts as JSON for the modes (MODES.md 1-3):
// valid JSON, no raw NUL (nlohmann's lexer would take it for the end), not
// nested deeper than max_json_depth (it could not be dumped).
bool is_json(std::string_view v);

// Appends `v` as a JSON value: compacted when is_json(v), else as a JSON
// string. Invalid UTF-8 is replaced, never thrown on.
void append_json_value(std::string& out, std::string_view v);

// Appends `s` as a JSON string.
void append_json_string(std::string& out, std::string_view s);

} // namespace rpd::util
