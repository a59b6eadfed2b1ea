#pragma once

#include <cstddef>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

namespace rpd::tasks {

// Decides whether a raw path segment is an acceptable task id. The default
// pattern gets a hand-written check: std::regex is slow, and every poll
// goes through here.
class task_id_validator {
public:
    static constexpr std::string_view default_pattern = "^[A-Za-z0-9_]+$";

    task_id_validator(const std::string& pattern, std::size_t max_length);

    bool valid(std::string_view id) const;

private:
    std::size_t max_length_;
    std::optional<std::regex> regex_; // empty: the default pattern
};

} // namespace rpd::tasks
