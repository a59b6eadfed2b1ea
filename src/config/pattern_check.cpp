#include "redis_push/config/pattern_check.hpp"

#include "key_table.hpp"
#include "redis_push/config/loader.hpp"

#include <cstdint>

namespace rpd::config {

// libstdc++'s std::regex (GCC 12) has gaps an operator's typo can fall
// into, all found by the config fuzzer: it reads {n,m} counts and \N
// back-reference numbers without an overflow check (undefined behaviour,
// then "a{4294967297}" quietly means "a{1}"), and it accepts a quantifier
// on a quantifier ("a**"), which ECMAScript forbids and which makes every
// id check exponentially slow. This scan refuses all of them before
// std::regex sees the pattern. It follows ECMAScript: "[]" is an empty
// class and "[^]" any character.
void check_pattern(std::string_view p, const std::string& key) {
    constexpr std::uint64_t largest = 1024; // no task id is longer
    const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    // Reads a run of digits at p[i], refusing a value no id could need.
    const auto number_at = [&](std::size_t& i, const char* what) {
        std::uint64_t n = 0;
        for (; i < p.size() && is_digit(p[i]); ++i) {
            n = n * 10 + static_cast<std::uint64_t>(p[i] - '0');
            if (n > largest)
                keys::fail(key, std::string("a ") + what +
                                    " above 1024, more than any task id may hold");
        }
    };
    enum { none, quantified, lazy } after = none; // what the previous token was
    for (std::size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\') {
            std::size_t j = i + 1;
            if (j < p.size() && is_digit(p[j])) {
                number_at(j, "back-reference number");
                i = j - 1;
            } else {
                ++i; // an escaped character: a literal or a class like \d
            }
            after = none;
            continue;
        }
        if (c == '[') {
            std::size_t j = i + 1;
            if (j < p.size() && p[j] == '^')
                ++j;
            if (j < p.size() && p[j] == ']') { // [] or [^]: complete already
                i = j;
            } else {
                for (i = j; i < p.size() && p[i] != ']'; ++i)
                    if (p[i] == '\\')
                        ++i;
            }
            after = none;
            continue;
        }
        bool quantifier = c == '*' || c == '+' || c == '?';
        if (c == '{') {
            std::size_t j = i + 1;
            const std::size_t first = j;
            number_at(j, "repetition count");
            if (j > first && j < p.size() && p[j] == ',') {
                ++j;
                number_at(j, "repetition count");
            }
            quantifier = j > first && j < p.size() && p[j] == '}';
            if (quantifier)
                i = j;
        }
        if (!quantifier) {
            after = none;
        } else if (after == quantified && c == '?') {
            after = lazy; // "*?", "{2}?": the lazy form, still one quantifier
        } else if (after != none) {
            keys::fail(key, "a quantifier after a quantifier (like a** or a{2}+) is not a valid "
                            "ECMAScript regular expression");
        } else {
            after = quantified;
        }
    }
}

} // namespace rpd::config
