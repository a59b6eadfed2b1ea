// Unit tests of the modes' configuration keys (MODES.md 5 and 6 "Config"):
// queue, mailbox, stream, history, ws, modes and redis.keyspace_events.

#include "redis_push/config/loader.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using rpd::config::config_error;
using rpd::config::parse;
using rpd::config::settings;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The message of the config_error that parsing `text` throws; fails the
// test (and returns "") when nothing or something else is thrown.
std::string error_of(const std::string& text) {
    try {
        parse(text);
    } catch (const config_error& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not a config_error: " << e.what() << " for " << text;
        return {};
    }
    ADD_FAILURE() << "no error for " << text;
    return {};
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

// `{"<section>":{"<key>":<value>}}`
std::string doc(const std::string& section, const std::string& key, const std::string& value) {
    return "{\"" + section + "\":{\"" + key + "\":" + value + "}}";
}

const char* const default_name_pattern = "^[A-Za-z0-9_.:/@-]{1,200}$";

// ---- defaults ------------------------------------------------------------------

TEST(ConfigModesDefaults, EmptyObjectGivesTheDocumentedDefaults) {
    const settings s = parse("{}");
    EXPECT_EQ(s.redis.keyspace_events, "auto");

    EXPECT_TRUE(s.queue.enabled);
    EXPECT_EQ(s.queue.timeout, seconds(30));
    EXPECT_EQ(s.queue.max_timeout, seconds(300));
    EXPECT_EQ(s.queue.name_pattern, default_name_pattern);
    EXPECT_EQ(s.queue.visibility_timeout, seconds(30));
    EXPECT_FALSE(s.queue.allow_publish);
    EXPECT_EQ(s.queue.max_message_bytes, 65536u);

    EXPECT_TRUE(s.mailbox.enabled);
    EXPECT_EQ(s.mailbox.key_prefix, "RA_M_");
    EXPECT_EQ(s.mailbox.notify_list, "");
    EXPECT_EQ(s.mailbox.timeout, seconds(30));
    EXPECT_EQ(s.mailbox.max_timeout, seconds(300));
    EXPECT_EQ(s.mailbox.name_pattern, default_name_pattern);

    EXPECT_TRUE(s.stream.enabled);
    EXPECT_EQ(s.stream.maxlen, 10000u);
    EXPECT_EQ(s.stream.max_count, 1000u);
    EXPECT_FALSE(s.stream.allow_publish);
    EXPECT_EQ(s.stream.claim_idle, milliseconds(60000));
    EXPECT_EQ(s.stream.name_pattern, default_name_pattern);
    EXPECT_EQ(s.stream.timeout, seconds(30));
    EXPECT_EQ(s.stream.max_timeout, seconds(300));

    EXPECT_TRUE(s.history.enabled);
    EXPECT_EQ(s.history.max_scan, 10000u);
    EXPECT_EQ(s.history.accept_timeout, seconds(30));

    EXPECT_EQ(s.ws.paths, std::vector<std::string>{"/ws"});
    EXPECT_EQ(s.ws.ping, seconds(30));
    EXPECT_EQ(s.ws.max_message_bytes, 65536u);
    EXPECT_EQ(s.ws.max_subscriptions, 100u);

    EXPECT_EQ(s.modes.recheck, milliseconds(1000));
}

TEST(ConfigModesDefaults, EmptySectionsKeepTheDefaults) {
    const settings s = parse(
        R"({"queue":{},"mailbox":{},"stream":{},"history":{},"ws":{},"modes":{},"redis":{}})");
    EXPECT_EQ(s.queue, rpd::config::queue_settings{});
    EXPECT_EQ(s.stream, rpd::config::stream_settings{});
    EXPECT_EQ(s.history, rpd::config::history_settings{});
    EXPECT_EQ(s.ws, rpd::config::ws_settings{});
    EXPECT_EQ(s.modes, rpd::config::modes_settings{});
    EXPECT_EQ(s.mailbox.key_prefix, "RA_M_");
    EXPECT_EQ(s.redis.keyspace_events, "auto");
}

TEST(ConfigModesDefaults, DefaultsAreThoseOfAnEmptyFile) {
    const settings d = rpd::config::defaults();
    const settings e = parse("{}");
    EXPECT_EQ(d.mailbox.key_prefix, "RA_M_") << "settings{} would leave it empty";
    EXPECT_EQ(d.mailbox, e.mailbox);
    EXPECT_EQ(d.queue, e.queue);
    EXPECT_EQ(d.redis, e.redis);
    EXPECT_EQ(d.ws, e.ws);
}

// ---- mailbox.key_prefix follows redis.prefix unless it is set ---------------------

TEST(ConfigModesMailbox, KeyPrefixDefaultFollowsRedisPrefix) {
    EXPECT_EQ(parse(R"({"redis":{"prefix":"X_"}})").mailbox.key_prefix, "X_M_");
    EXPECT_EQ(parse(R"({"redis":{"prefix":""}})").mailbox.key_prefix, "M_");
    EXPECT_EQ(parse(R"({"redis":{"prefix":"X_"},"mailbox":{"enabled":true}})").mailbox.key_prefix,
              "X_M_");
}

TEST(ConfigModesMailbox, KeyPrefixDefaultFollowsARedisPrefixLaterInTheFile) {
    const settings s = parse(R"({"mailbox":{"notify_list":"N"},"redis":{"prefix":"LATE_"}})");
    EXPECT_EQ(s.mailbox.key_prefix, "LATE_M_");
    EXPECT_EQ(s.mailbox.notify_list, "N");
}

TEST(ConfigModesMailbox, AnExplicitKeyPrefixWins) {
    EXPECT_EQ(
        parse(R"({"mailbox":{"key_prefix":"box:"},"redis":{"prefix":"X_"}})").mailbox.key_prefix,
        "box:");
    EXPECT_EQ(
        parse(R"({"redis":{"prefix":"X_"},"mailbox":{"key_prefix":"box:"}})").mailbox.key_prefix,
        "box:");
}

TEST(ConfigModesMailbox, AnExplicitEmptyKeyPrefixStaysEmpty) {
    EXPECT_EQ(parse(R"({"mailbox":{"key_prefix":""}})").mailbox.key_prefix, "");
    EXPECT_EQ(parse(R"({"mailbox":{"key_prefix":""},"redis":{"prefix":"X_"}})").mailbox.key_prefix,
              "");
}

TEST(ConfigModesMailbox, StringKeys) {
    const settings s = parse(R"({"mailbox":{"key_prefix":"K_","notify_list":"RA_notify"}})");
    EXPECT_EQ(s.mailbox.key_prefix, "K_");
    EXPECT_EQ(s.mailbox.notify_list, "RA_notify");
    EXPECT_EQ(parse(R"({"mailbox":{"notify_list":""}})").mailbox.notify_list, "");
}

// ---- ranged integers: both ends accepted, one past each end rejected ---------------

struct ranged_key {
    const char* section;
    const char* key;
    long long lo;
    long long hi;
    long long (*get)(const settings&);
};

// MODES.md 6 "Config".
const ranged_key ranged_keys[] = {
    {"queue", "timeout_seconds", 0, 86400,
     [](const settings& s) -> long long { return s.queue.timeout.count(); }},
    {"queue", "max_timeout_seconds", 1, 86400,
     [](const settings& s) -> long long { return s.queue.max_timeout.count(); }},
    {"queue", "visibility_timeout_seconds", 1, 86400,
     [](const settings& s) -> long long { return s.queue.visibility_timeout.count(); }},
    {"queue", "max_message_bytes", 1024, 16777216,
     [](const settings& s) -> long long { return s.queue.max_message_bytes; }},
    {"mailbox", "timeout_seconds", 0, 86400,
     [](const settings& s) -> long long { return s.mailbox.timeout.count(); }},
    {"mailbox", "max_timeout_seconds", 1, 86400,
     [](const settings& s) -> long long { return s.mailbox.max_timeout.count(); }},
    {"stream", "maxlen", 0, 2147483647,
     [](const settings& s) -> long long { return s.stream.maxlen; }},
    {"stream", "max_count", 1, 100000,
     [](const settings& s) -> long long { return s.stream.max_count; }},
    {"stream", "claim_idle_ms", 100, 86400000,
     [](const settings& s) -> long long { return s.stream.claim_idle.count(); }},
    {"stream", "timeout_seconds", 0, 86400,
     [](const settings& s) -> long long { return s.stream.timeout.count(); }},
    {"stream", "max_timeout_seconds", 1, 86400,
     [](const settings& s) -> long long { return s.stream.max_timeout.count(); }},
    {"history", "max_scan", 1, 10000000,
     [](const settings& s) -> long long { return s.history.max_scan; }},
    {"history", "accept_timeout_seconds", 1, 3600,
     [](const settings& s) -> long long { return s.history.accept_timeout.count(); }},
    {"ws", "ping_seconds", 1, 3600,
     [](const settings& s) -> long long { return s.ws.ping.count(); }},
    {"ws", "max_message_bytes", 1024, 16777216,
     [](const settings& s) -> long long { return s.ws.max_message_bytes; }},
    {"ws", "max_subscriptions", 1, 10000,
     [](const settings& s) -> long long { return s.ws.max_subscriptions; }},
    {"modes", "recheck_ms", 50, 60000,
     [](const settings& s) -> long long { return s.modes.recheck.count(); }},
};

class ConfigModesRange : public ::testing::TestWithParam<ranged_key> {
protected:
    std::string name() const {
        return std::string(GetParam().section) + "." + GetParam().key + ": ";
    }
    std::string with(long long n) const {
        return doc(GetParam().section, GetParam().key, std::to_string(n));
    }
};

TEST_P(ConfigModesRange, BothEndsAcceptedAndStored) {
    const auto& k = GetParam();
    EXPECT_EQ(k.get(parse(with(k.lo))), k.lo);
    EXPECT_EQ(k.get(parse(with(k.hi))), k.hi);
}

TEST_P(ConfigModesRange, AValueInsideIsStoredExactly) {
    const auto& k = GetParam();
    const long long mid = k.lo + (k.hi - k.lo) / 3;
    EXPECT_EQ(k.get(parse(with(mid))), mid);
}

TEST_P(ConfigModesRange, BelowTheRangeRejectedNamingTheKey) {
    const std::string msg = error_of(with(GetParam().lo - 1));
    EXPECT_TRUE(starts_with(msg, name())) << msg;
    EXPECT_NE(msg.find("must be between"), std::string::npos) << msg;
}

TEST_P(ConfigModesRange, AboveTheRangeRejectedNamingTheKey) {
    const std::string msg = error_of(with(GetParam().hi + 1));
    EXPECT_TRUE(starts_with(msg, name())) << msg;
    EXPECT_NE(msg.find("must be between"), std::string::npos) << msg;
}

TEST_P(ConfigModesRange, HugeValuesRejectedNamingTheKey) {
    const auto& k = GetParam();
    EXPECT_TRUE(starts_with(error_of(doc(k.section, k.key, "18446744073709551615")), name()));
    EXPECT_TRUE(starts_with(error_of(doc(k.section, k.key, "-9223372036854775808")), name()));
}

TEST_P(ConfigModesRange, NonIntegersRejectedNamingTheKey) {
    const auto& k = GetParam();
    for (const char* bad : {"\"10\"", "100.5", "true", "null", "[100]", "{}"}) {
        const std::string msg = error_of(doc(k.section, k.key, bad));
        EXPECT_TRUE(starts_with(msg, name())) << bad << " -> " << msg;
    }
}

INSTANTIATE_TEST_SUITE_P(AllRangedModeKeys, ConfigModesRange, ::testing::ValuesIn(ranged_keys),
                         [](const ::testing::TestParamInfo<ranged_key>& info) {
                             return std::string(info.param.section) + "_" + info.param.key;
                         });

// ---- booleans --------------------------------------------------------------------

struct bool_key {
    const char* section;
    const char* key;
    bool (*get)(const settings&);
};

const bool_key bool_keys[] = {
    {"queue", "enabled", [](const settings& s) { return s.queue.enabled; }},
    {"queue", "allow_publish", [](const settings& s) { return s.queue.allow_publish; }},
    {"mailbox", "enabled", [](const settings& s) { return s.mailbox.enabled; }},
    {"stream", "enabled", [](const settings& s) { return s.stream.enabled; }},
    {"stream", "allow_publish", [](const settings& s) { return s.stream.allow_publish; }},
    {"history", "enabled", [](const settings& s) { return s.history.enabled; }},
};

class ConfigModesBool : public ::testing::TestWithParam<bool_key> {};

TEST_P(ConfigModesBool, BothValuesStored) {
    const auto& k = GetParam();
    EXPECT_TRUE(k.get(parse(doc(k.section, k.key, "true"))));
    EXPECT_FALSE(k.get(parse(doc(k.section, k.key, "false"))));
}

TEST_P(ConfigModesBool, NonBooleansRejectedNamingTheKey) {
    const auto& k = GetParam();
    const std::string name = std::string(k.section) + "." + k.key + ": ";
    for (const char* bad : {"1", "0", "\"true\"", "null", "[true]"}) {
        const std::string msg = error_of(doc(k.section, k.key, bad));
        EXPECT_TRUE(starts_with(msg, name)) << bad << " -> " << msg;
    }
}

INSTANTIATE_TEST_SUITE_P(AllBooleanModeKeys, ConfigModesBool, ::testing::ValuesIn(bool_keys),
                         [](const ::testing::TestParamInfo<bool_key>& info) {
                             return std::string(info.param.section) + "_" + info.param.key;
                         });

TEST(ConfigModesKeys, EachModeSwitchesOffAlone) {
    const settings s = parse(R"({"stream":{"enabled":false}})");
    EXPECT_FALSE(s.stream.enabled);
    EXPECT_TRUE(s.queue.enabled);
    EXPECT_TRUE(s.mailbox.enabled);
    EXPECT_TRUE(s.history.enabled);
}

// ---- name patterns ------------------------------------------------------------------

class ConfigModesNamePattern : public ::testing::TestWithParam<const char*> {};

TEST_P(ConfigModesNamePattern, AValidPatternIsStored) {
    const settings s = parse(doc(GetParam(), "name_pattern", R"("^[a-z]{1,10}$")"));
    const std::string section = GetParam();
    const std::string& got = section == "queue"     ? s.queue.name_pattern
                             : section == "mailbox" ? s.mailbox.name_pattern
                                                    : s.stream.name_pattern;
    EXPECT_EQ(got, "^[a-z]{1,10}$");
}

TEST_P(ConfigModesNamePattern, AnInvalidRegexIsRejectedNamingTheKey) {
    const std::string name = std::string(GetParam()) + ".name_pattern: ";
    // Broken syntax (std::regex) and libstdc++'s gaps (check_pattern).
    for (const char* bad :
         {R"("[a-z")", R"("(abc")", R"("*x")", R"("a{2,1}")", R"("a**")", R"("a{4294967297}")"}) {
        const std::string msg = error_of(doc(GetParam(), "name_pattern", bad));
        EXPECT_TRUE(starts_with(msg, name)) << bad << " -> " << msg;
    }
}

TEST_P(ConfigModesNamePattern, ANonStringIsRejectedNamingTheKey) {
    const std::string name = std::string(GetParam()) + ".name_pattern: ";
    for (const char* bad : {"1", "null", "[\"^a$\"]", "true"}) {
        const std::string msg = error_of(doc(GetParam(), "name_pattern", bad));
        EXPECT_TRUE(starts_with(msg, name)) << bad << " -> " << msg;
    }
}

INSTANTIATE_TEST_SUITE_P(EveryMode, ConfigModesNamePattern,
                         ::testing::Values("queue", "mailbox", "stream"));

TEST(ConfigModesKeys, TheDefaultNamePatternIsValid) {
    EXPECT_NO_THROW(
        parse(doc("queue", "name_pattern", std::string("\"") + default_name_pattern + "\"")));
}

// ---- strings: wrong types ---------------------------------------------------------------

TEST(ConfigModesValues, StringKeysRejectOtherTypes) {
    for (const char* key : {"key_prefix", "notify_list"})
        for (const char* bad : {"1", "null", "false", "[\"x\"]", "{}"}) {
            const std::string msg = error_of(doc("mailbox", key, bad));
            EXPECT_TRUE(starts_with(msg, std::string("mailbox.") + key + ": "))
                << bad << " -> " << msg;
        }
}

// ---- redis.keyspace_events ---------------------------------------------------------------

TEST(ConfigModesValues, KeyspaceEventsAutoOrOff) {
    EXPECT_EQ(parse(doc("redis", "keyspace_events", "\"auto\"")).redis.keyspace_events, "auto");
    EXPECT_EQ(parse(doc("redis", "keyspace_events", "\"off\"")).redis.keyspace_events, "off");
}

TEST(ConfigModesValues, KeyspaceEventsAnythingElseRejected) {
    for (const char* bad :
         {"\"on\"", "\"AUTO\"", "\"Off\"", "\"\"", "\"Klt\"", "\"auto \"", "true", "0", "null"}) {
        const std::string msg = error_of(doc("redis", "keyspace_events", bad));
        EXPECT_TRUE(starts_with(msg, "redis.keyspace_events: ")) << bad << " -> " << msg;
    }
}

// ---- ws.paths --------------------------------------------------------------------------------

TEST(ConfigModesValues, WsPathsStored) {
    const settings s = parse(R"({"ws":{"paths":["/socket","/v2/ws","/"]}})");
    EXPECT_EQ(s.ws.paths, (std::vector<std::string>{"/socket", "/v2/ws", "/"}));
}

TEST(ConfigModesValues, WsPathsRejectedNamingTheKey) {
    for (const char* bad :
         {"[]", "\"/ws\"", "[1]", "[\"/ws\", null]", "[\"ws\"]", "[\"\"]", "[\"/ws?x=1\"]",
          "[\"/ws#a\"]", "[\"/a b\"]", "[\"http://h/ws\"]", "{}", "null"}) {
        const std::string msg = error_of(doc("ws", "paths", bad));
        EXPECT_TRUE(starts_with(msg, "ws.paths: ")) << bad << " -> " << msg;
    }
}

// ---- document structure -----------------------------------------------------------------------

TEST(ConfigModesStructure, UnknownKeyInEachNewSection) {
    EXPECT_EQ(error_of(R"({"queue":{"timeout":1}})"), "queue.timeout: unknown key");
    EXPECT_EQ(error_of(R"({"mailbox":{"prefix":"x"}})"), "mailbox.prefix: unknown key");
    EXPECT_EQ(error_of(R"({"stream":{"max_len":1}})"), "stream.max_len: unknown key");
    EXPECT_EQ(error_of(R"({"history":{"limit":1}})"), "history.limit: unknown key");
    EXPECT_EQ(error_of(R"({"ws":{"path":"/ws"}})"), "ws.path: unknown key");
    EXPECT_EQ(error_of(R"({"modes":{"recheck":1000}})"), "modes.recheck: unknown key");
    EXPECT_EQ(error_of(R"({"redis":{"keyspace_event":"auto"}})"),
              "redis.keyspace_event: unknown key");
}

TEST(ConfigModesStructure, KeysOfAnotherModeAreUnknown) {
    // enabled exists for the four modes only, not for the transports.
    EXPECT_EQ(error_of(R"({"ws":{"enabled":false}})"), "ws.enabled: unknown key");
    EXPECT_EQ(error_of(R"({"modes":{"enabled":false}})"), "modes.enabled: unknown key");
    EXPECT_EQ(error_of(R"({"sse":{"enabled":false}})"), "sse.enabled: unknown key");
    EXPECT_EQ(error_of(R"({"history":{"name_pattern":"x"}})"), "history.name_pattern: unknown key");
    EXPECT_EQ(error_of(R"({"mailbox":{"allow_publish":true}})"),
              "mailbox.allow_publish: unknown key");
    EXPECT_EQ(error_of(R"({"queue":{"maxlen":1}})"), "queue.maxlen: unknown key");
    EXPECT_EQ(error_of(R"({"stream":{"visibility_timeout_seconds":1}})"),
              "stream.visibility_timeout_seconds: unknown key");
    EXPECT_EQ(error_of(R"({"mailbox":{"max_message_bytes":2048}})"),
              "mailbox.max_message_bytes: unknown key");
}

TEST(ConfigModesStructure, NewSectionsMustBeObjects) {
    for (const char* section : {"queue", "mailbox", "stream", "history", "ws", "modes"}) {
        for (const char* bad : {"1", "\"x\"", "[]", "null", "true"}) {
            const std::string msg = error_of(std::string("{\"") + section + "\":" + bad + "}");
            EXPECT_TRUE(starts_with(msg, std::string(section) + ": ")) << bad << " -> " << msg;
        }
    }
}

TEST(ConfigModesStructure, AnErrorInAModeKeyStopsTheWholeFile) {
    const std::string msg =
        error_of(R"({"http":{"port":9000},"queue":{"enabled":true,"max_message_bytes":1023}})");
    EXPECT_TRUE(starts_with(msg, "queue.max_message_bytes: ")) << msg;
}

TEST(ConfigModesKeys, EveryKeyAtOnce) {
    const settings s = parse(R"({
        "redis": {"keyspace_events": "off", "prefix": "P_"},
        "queue": {"enabled": false, "timeout_seconds": 0, "max_timeout_seconds": 60,
                  "name_pattern": "^q[0-9]+$", "visibility_timeout_seconds": 5,
                  "allow_publish": true, "max_message_bytes": 2048},
        "mailbox": {"enabled": false, "key_prefix": "MB_", "notify_list": "MB_notify",
                    "timeout_seconds": 10, "max_timeout_seconds": 20, "name_pattern": "^m$"},
        "stream": {"enabled": false, "maxlen": 0, "max_count": 5, "allow_publish": true,
                   "claim_idle_ms": 100, "name_pattern": "^s$", "timeout_seconds": 1,
                   "max_timeout_seconds": 2},
        "history": {"enabled": false, "max_scan": 7, "accept_timeout_seconds": 8},
        "ws": {"paths": ["/a", "/b"], "ping_seconds": 9, "max_message_bytes": 4096,
               "max_subscriptions": 3},
        "modes": {"recheck_ms": 250}
    })");
    EXPECT_EQ(s.redis.keyspace_events, "off");
    EXPECT_FALSE(s.queue.enabled);
    EXPECT_EQ(s.queue.timeout, seconds(0));
    EXPECT_EQ(s.queue.max_timeout, seconds(60));
    EXPECT_EQ(s.queue.name_pattern, "^q[0-9]+$");
    EXPECT_EQ(s.queue.visibility_timeout, seconds(5));
    EXPECT_TRUE(s.queue.allow_publish);
    EXPECT_EQ(s.queue.max_message_bytes, 2048u);
    EXPECT_FALSE(s.mailbox.enabled);
    EXPECT_EQ(s.mailbox.key_prefix, "MB_");
    EXPECT_EQ(s.mailbox.notify_list, "MB_notify");
    EXPECT_EQ(s.mailbox.timeout, seconds(10));
    EXPECT_EQ(s.mailbox.max_timeout, seconds(20));
    EXPECT_EQ(s.mailbox.name_pattern, "^m$");
    EXPECT_FALSE(s.stream.enabled);
    EXPECT_EQ(s.stream.maxlen, 0u);
    EXPECT_EQ(s.stream.max_count, 5u);
    EXPECT_TRUE(s.stream.allow_publish);
    EXPECT_EQ(s.stream.claim_idle, milliseconds(100));
    EXPECT_EQ(s.stream.name_pattern, "^s$");
    EXPECT_EQ(s.stream.timeout, seconds(1));
    EXPECT_EQ(s.stream.max_timeout, seconds(2));
    EXPECT_FALSE(s.history.enabled);
    EXPECT_EQ(s.history.max_scan, 7u);
    EXPECT_EQ(s.history.accept_timeout, seconds(8));
    EXPECT_EQ(s.ws.paths, (std::vector<std::string>{"/a", "/b"}));
    EXPECT_EQ(s.ws.ping, seconds(9));
    EXPECT_EQ(s.ws.max_message_bytes, 4096u);
    EXPECT_EQ(s.ws.max_subscriptions, 3u);
    EXPECT_EQ(s.modes.recheck, milliseconds(250));
    // The core's keys are untouched by the modes' ones.
    EXPECT_EQ(s.redis.prefix, "P_");
    EXPECT_EQ(s.http.port, 8888);
}

} // namespace
