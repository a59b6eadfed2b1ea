// Inputs the libFuzzer targets in tests/fuzz/ found to crash, kept as unit
// tests (docs/fuzzing.md). Each test names the target and the artifact.

#include "redis_push/config/loader.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using rpd::config::config_error;

// The outcome of parsing `text`: "config_error: <message>", "ok", or what
// else escaped parse() (which --check-config does not catch: it aborts,
// and a SIGHUP reload lets it end the running daemon).
std::string outcome_of(const std::string& text) {
    try {
        rpd::config::parse(text);
        return "ok";
    } catch (const config_error& e) {
        return std::string("config_error: ") + e.what();
    } catch (const std::exception& e) {
        return std::string("other exception: ") + e.what();
    }
}

// fuzz_config, artifact crash-c6806673e5875f5284eec90a993c2b6369e97db6
// ("2E665"): a number beyond the range of a double makes json::parse throw
// out_of_range (406), not parse_error, and parse() let it through
// (fixed in c6719e6).
TEST(FuzzRegressions, ConfigNumberOverflowIsAConfigError) {
    for (const char* text :
         {"2E665", R"({"http":{"port":1e400}})", R"({"watch":{"keepalive_seconds":-1e309}})"}) {
        EXPECT_TRUE(outcome_of(text).starts_with("config_error: "))
            << text << ": " << outcome_of(text);
    }
}

// fuzz_config, artifact crash-49124932e99d07b1473011232bfca93007241815
// (the third pattern below): libstdc++'s std::regex reads a brace
// repetition count into a long without an overflow check (signed
// overflow, UB) and truncates it to int, so "a{4294967297}" silently means
// "a{1}". The loader accepts such a pattern and the daemon then checks
// task ids against another pattern than the one configured; a count no
// id can reach (ids are at most 1024 bytes) is refused since 729e662.
TEST(FuzzRegressions, ConfigHugeRepetitionCountIsRefused) {
    for (const char* pattern : {"^a{4294967297}$", "^a{1,18446744073709551617}$",
                                "^[a-f0-9-]{300000000000000000000000000000000000}+"}) {
        const std::string text = std::string(R"({"task":{"id_pattern":")") + pattern + R"("}})";
        EXPECT_TRUE(outcome_of(text).starts_with("config_error: "))
            << text << ": " << outcome_of(text);
    }
}

// The check added for the test above (729e662) reads "[]" as the start of
// a class whose first member is ']', as in POSIX; in ECMAScript "[]" is an
// empty class, so a count after it goes unchecked: "^(?:a|[]){4294967297}$"
// was accepted and meant "^(?:a|[])$" (matches "a"), and with a count
// beyond a long it is the same signed overflow (UB) in libstdc++.
TEST(FuzzRegressions, ConfigHugeRepetitionCountAfterAnEmptyClassIsRefused) {
    for (const char* pattern : {"^(?:a|[]){4294967297}$", "^(?:a|[]){99999999999999999999}$"}) {
        const std::string text = std::string(R"({"task":{"id_pattern":")") + pattern + R"("}})";
        EXPECT_TRUE(outcome_of(text).starts_with("config_error: "))
            << text << ": " << outcome_of(text);
    }
}

// fuzz_config, artifact crash-8981aaf99ca975347beef40e7578ee59352c99de:
// the same unchecked accumulation reads a back-reference number
// ("\\18446744073709551616", JSON-escaped), which the count check does not
// look at: signed overflow (UB) in libstdc++ before the regex is refused.
// Visible in the sanitizer tree (UBSan); refused either way.
TEST(FuzzRegressions, ConfigHugeBackReferenceNumberIsRefused) {
    const std::string text = R"({"task":{"id_pattern":"a\\18446744073709551616"}})";
    EXPECT_TRUE(outcome_of(text).starts_with("config_error: ")) << text << ": " << outcome_of(text);
}

// fuzz_config (a timeout, so no artifact test of its own before): libstdc++
// accepts a quantifier on a quantifier, and "(a*****|b)*c" took 5.5 s to
// check the 7-byte id "abc_123". ECMAScript forbids it; so do we. The lazy
// forms ("a*?", "a{2}?") are one quantifier and stay accepted.
TEST(FuzzRegressions, ConfigStackedQuantifiersAreRefused) {
    for (const char* pattern : {"^a**$", "(a*****|b)*c", "^a{2}+$", "^a+*$", "^a*??$"}) {
        const std::string text = std::string(R"({"task":{"id_pattern":")") + pattern + R"("}})";
        EXPECT_TRUE(outcome_of(text).starts_with("config_error: "))
            << text << ": " << outcome_of(text);
    }
    for (const char* pattern : {"^a*?$", "^a{2}?b$", "^(?:ab)+$", "^[*+?]+$", "^a\\\\*+$",
                                "^[a-f0-9-]{36}$", "^[]]?a$", "^(?=a)a+$"}) {
        const std::string text = std::string(R"({"task":{"id_pattern":")") + pattern + R"("}})";
        EXPECT_EQ(outcome_of(text), "ok") << text;
    }
}

// Noticed by the fuzzing session: the JSON lexer stopped at a NUL byte, so
// `{"http":{"port":9}}\0garbage` loaded as port 9.
TEST(FuzzRegressions, ConfigWithANulByteIsRefused) {
    const std::string text("{\"http\":{\"port\":9}}\0garbage", 27);
    EXPECT_TRUE(outcome_of(text).starts_with("config_error: ")) << outcome_of(text);
}

} // namespace
