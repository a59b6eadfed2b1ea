#pragma once

#include <cstddef>
#include <string_view>

namespace rpd::util {

// Whether the brackets of `text` (taken as JSON; strings skipped) never nest
// deeper than `max_depth`. nlohmann's parser is iterative but its
// serializer recurses: a value nested 100,000 deep, which a producer or a
// client can send, would overflow the stack when dumped. Checked first,
// such a text is handled as not JSON.
bool nesting_within(std::string_view text, std::size_t max_depth);

// Deep enough for any real message; far from the stack's end.
inline constexpr std::size_t max_json_depth = 1000;

} // namespace rpd::util
