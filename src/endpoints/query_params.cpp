#include "redis_push/endpoints/query_params.hpp"

#include <charconv>
#include <cstdint>

namespace rpd::endpoints {

namespace {
int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
} // namespace

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else if (c == '%') {
            if (i + 2 >= s.size())
                return std::nullopt;
            const int hi = hex_digit(s[i + 1]);
            const int lo = hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::optional<std::vector<query_param>> parse_query(std::string_view query) {
    std::vector<query_param> out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (part.empty())
            continue;
        const auto eq = part.find('=');
        auto name = percent_decode(part.substr(0, eq), true);
        auto value = percent_decode(
            eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1), true);
        if (!name || !value)
            return std::nullopt;
        out.push_back({std::move(*name), std::move(*value), eq != std::string_view::npos});
    }
    return out;
}

std::optional<std::uint64_t> parse_count(std::string_view s, std::uint64_t max) {
    if (s.empty() || s.size() > 30)
        return std::nullopt;
    for (const char c : s)
        if (c < '0' || c > '9')
            return std::nullopt;
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc::result_out_of_range)
        return max; // all digits, just huge
    if (ec != std::errc() || end != s.data() + s.size())
        return std::nullopt;
    return n > max ? max : n;
}

} // namespace rpd::endpoints
