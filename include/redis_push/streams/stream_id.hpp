#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rpd::streams {

// A Redis stream id, `<ms>-<seq>`: the one cursor of every transport
// (MODES.md 3), compared as Redis compares them.
struct stream_id {
    std::uint64_t ms = 0;
    std::uint64_t seq = 0;

    auto operator<=>(const stream_id&) const = default;
    bool is_zero() const { return ms == 0 && seq == 0; }
    std::string text() const;
};

// `<ms>-<seq>`, or `<ms>` meaning `<ms>-0` (as XREAD reads it); decimal
// digits only, each part within 64 bits. Anything else: nullopt.
std::optional<stream_id> parse_stream_id(std::string_view s);

// A client's offset: `$` (only what comes after the request) or an id
// (`0` = from the beginning).
struct offset {
    bool latest = false; // `$`
    stream_id id;
};
// `$` only where `allow_latest`; else as parse_stream_id.
std::optional<offset> parse_offset(std::string_view s, bool allow_latest);

} // namespace rpd::streams
