#include "redis_push/tasks/task_id.hpp"

namespace rpd::tasks {

namespace {
bool default_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}
} // namespace

task_id_validator::task_id_validator(const std::string& pattern, std::size_t max_length)
    : max_length_(max_length) {
    if (pattern != default_pattern)
        regex_.emplace(pattern, std::regex::ECMAScript | std::regex::optimize);
}

bool task_id_validator::valid(std::string_view id) const {
    if (id.empty() || id.size() > max_length_)
        return false;
    // Whatever the pattern allows, these never name a task: the id is the
    // raw path segment, so encoded bytes and dot segments are rejected.
    if (id == "." || id == ".." || id.find_first_of("%/") != std::string_view::npos)
        return false;
    if (!regex_) {
        for (char c : id)
            if (!default_char(c))
                return false;
        return true;
    }
    return std::regex_match(id.begin(), id.end(), *regex_);
}

} // namespace rpd::tasks
