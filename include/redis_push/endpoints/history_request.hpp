#pragma once

#include "redis_push/streams/history_page.hpp"

#include <optional>
#include <string_view>

namespace rpd::endpoints {

// Pure: the query of GET /stream/<name>/history (MODES.md 3, 6) as a page
// request. nullopt: 400 Invalid parameter (a bad offset or limit, an
// `order` other than desc, a `where` without `:` or with an empty field,
// `after` together with `before` or with `order=desc`). `limit` is
// clamped to `max_limit`, 0 read as 1; `after=0` reads from the beginning.
std::optional<streams::page_request> parse_history_request(std::string_view query,
                                                           std::size_t max_limit);

// One `<field>:<value>` (already percent-decoded): split at the first `:`.
std::optional<streams::field_filter> parse_filter(std::string_view text);

} // namespace rpd::endpoints
