#include "redis_push/streams/stream_id.hpp"

#include <charconv>

namespace rpd::streams {

namespace {
std::optional<std::uint64_t> decimal(std::string_view s) {
    if (s.empty())
        return std::nullopt;
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size())
        return std::nullopt;
    return n;
}
} // namespace

std::string stream_id::text() const {
    return std::to_string(ms) + "-" + std::to_string(seq);
}

std::optional<stream_id> parse_stream_id(std::string_view s) {
    // from_chars accepts no sign and no space, which is what we want.
    const auto dash = s.find('-');
    const auto ms = decimal(s.substr(0, dash));
    if (!ms)
        return std::nullopt;
    if (dash == std::string_view::npos)
        return stream_id{*ms, 0};
    const auto seq = decimal(s.substr(dash + 1));
    if (!seq)
        return std::nullopt;
    return stream_id{*ms, *seq};
}

std::optional<offset> parse_offset(std::string_view s, bool allow_latest) {
    if (s == "$") {
        if (!allow_latest)
            return std::nullopt;
        return offset{true, {}};
    }
    const auto id = parse_stream_id(s);
    if (!id)
        return std::nullopt;
    return offset{false, *id};
}

} // namespace rpd::streams
