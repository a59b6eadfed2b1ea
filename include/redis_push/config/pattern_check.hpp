#pragma once

#include <string>
#include <string_view>

namespace rpd::config {

// Throws config_error naming `key` when the ECMAScript pattern `p` falls
// into one of libstdc++'s std::regex gaps (see pattern_check.cpp); every
// *_pattern key goes through it before std::regex sees the pattern.
void check_pattern(std::string_view p, const std::string& key);

} // namespace rpd::config
