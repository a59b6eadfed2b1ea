#include "redis_push/feed/end_reason.hpp"

#include <array>

namespace rpd::feed {

namespace {
// The status applies to an answer not yet committed to; once a feed is
// established (a held watch's 200 head is out) only the text is sent.
constexpr std::array<end_description, static_cast<std::size_t>(end_reason::count_)> table{{
    {200, "", "found"},
    {200, "", "delivered"},
    {404, "Not Found", "not_found"},
    {502, "Invalid JSON in task data", "invalid_json"},
    {503, "Redis unavailable", "unavailable"},
    {200, "Killed due to another concurrent request for this task", "killed"},
    {200, "Watch timed out", "timed_out"},
    {503, "Server shutting down", "shutting_down"},
    {502, "Wrong type of Redis key", "wrong_type"},
    {201, "", "created"},
    {504, "Timed out", "timed_out"},
    {204, "", "acknowledged"},
}};
} // namespace

const end_description& describe(end_reason r) {
    return table[static_cast<std::size_t>(r)];
}

} // namespace rpd::feed
