// Unit tests of the configuration loader (spec section 7).

#include "redis_push/config/loader.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {

using rpd::config::config_error;
using rpd::config::parse;
using rpd::config::settings;

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

// ---- defaults ----------------------------------------------------------------

TEST(ConfigDefaults, EmptyObjectGivesTheDocumentedDefaults) {
    const settings s = parse("{}");
    EXPECT_EQ(s.http.address, "127.0.0.1");
    EXPECT_EQ(s.http.port, 8888);
    EXPECT_FALSE(s.http.always_200);
    EXPECT_TRUE(s.http.cors_origins.empty());
    EXPECT_EQ(s.http.max_connections, 100000u);
    EXPECT_EQ(s.http.request_timeout, std::chrono::seconds(30));
    EXPECT_EQ(s.http.idle_timeout, std::chrono::seconds(60));
    EXPECT_EQ(s.http.max_header_bytes, 8192u);
    EXPECT_EQ(s.redis.host, "127.0.0.1");
    EXPECT_EQ(s.redis.port, 6379);
    EXPECT_EQ(s.redis.unix_socket, "");
    EXPECT_EQ(s.redis.username, "");
    EXPECT_EQ(s.redis.password, "");
    EXPECT_EQ(s.redis.db, 0u);
    EXPECT_EQ(s.redis.prefix, "RA_");
    EXPECT_EQ(s.redis.subscriber_connections, 4u);
    EXPECT_EQ(s.redis.connect_timeout, std::chrono::milliseconds(2000));
    EXPECT_EQ(s.redis.command_timeout, std::chrono::milliseconds(2000));
    EXPECT_EQ(s.http.max_output_bytes, 1048576u);
    EXPECT_EQ(s.task.id_pattern, "^[A-Za-z0-9_]+$");
    EXPECT_EQ(s.task.max_id_length, 32u);
    EXPECT_EQ(s.task.signing_secret, "");
    EXPECT_EQ(s.task.signing_secret_file, "");
    EXPECT_EQ(s.task.signature_bytes, 16u);
    EXPECT_EQ(s.watch.keepalive, std::chrono::seconds(10));
    EXPECT_EQ(s.watch.timeout, std::chrono::seconds(0));
    EXPECT_EQ(s.sse.retry, std::chrono::milliseconds(3000));
    EXPECT_EQ(s.sse.keepalive, std::chrono::seconds(15));
    EXPECT_EQ(s.log.level, "info");
}

TEST(ConfigDefaults, EmptySectionsKeepTheDefaults) {
    const settings s = parse(R"({"http":{},"redis":{},"task":{},"watch":{},"sse":{},"log":{}})");
    EXPECT_EQ(s.http.port, 8888);
    EXPECT_EQ(s.redis.port, 6379);
    EXPECT_EQ(s.task.max_id_length, 32u);
    EXPECT_EQ(s.watch.keepalive, std::chrono::seconds(10));
    EXPECT_EQ(s.sse, rpd::config::sse_settings{});
    EXPECT_EQ(s.log.level, "info");
}

TEST(ConfigDefaults, ParseDoesNotReadTheEnvironment) {
    ::setenv("REDIS_PUSH_REDIS_PASSWORD", "from-env", 1);
    const settings s = parse(R"({"redis":{"password":"from-file"}})");
    ::unsetenv("REDIS_PUSH_REDIS_PASSWORD");
    EXPECT_EQ(s.redis.password, "from-file");
}

// ---- every key with a valid value --------------------------------------------

TEST(ConfigKeys, EveryKeyAcceptsAValidValue) {
    const settings s = parse(R"({
        "http": {
            "address": "::1",
            "port": 9000,
            "always_200": true,
            "cors_origins": ["https://a.example", "*"],
            "max_connections": 500,
            "request_timeout_seconds": 5,
            "idle_timeout_seconds": 7,
            "max_header_bytes": 4096
        },
        "redis": {
            "host": "redis.internal",
            "port": 6380,
            "unix_socket": "/run/redis.sock",
            "username": "pusher",
            "password": "secret",
            "db": 3,
            "prefix": "XY_",
            "subscriber_connections": 8,
            "connect_timeout_ms": 1500
        },
        "task": {
            "id_pattern": "^[a-f0-9-]+$",
            "max_id_length": 64
        },
        "watch": {
            "keepalive_seconds": 0,
            "timeout_seconds": 120
        },
        "sse": {
            "retry_ms": 250,
            "keepalive_seconds": 0
        },
        "log": {
            "level": "debug"
        }
    })");
    EXPECT_EQ(s.http.address, "::1");
    EXPECT_EQ(s.http.port, 9000);
    EXPECT_TRUE(s.http.always_200);
    ASSERT_EQ(s.http.cors_origins.size(), 2u);
    EXPECT_EQ(s.http.cors_origins[0], "https://a.example");
    EXPECT_EQ(s.http.cors_origins[1], "*");
    EXPECT_EQ(s.http.max_connections, 500u);
    EXPECT_EQ(s.http.request_timeout, std::chrono::seconds(5));
    EXPECT_EQ(s.http.idle_timeout, std::chrono::seconds(7));
    EXPECT_EQ(s.http.max_header_bytes, 4096u);
    EXPECT_EQ(s.redis.host, "redis.internal");
    EXPECT_EQ(s.redis.port, 6380);
    EXPECT_EQ(s.redis.unix_socket, "/run/redis.sock");
    EXPECT_EQ(s.redis.username, "pusher");
    EXPECT_EQ(s.redis.password, "secret");
    EXPECT_EQ(s.redis.db, 3u);
    EXPECT_EQ(s.redis.prefix, "XY_");
    EXPECT_EQ(s.redis.subscriber_connections, 8u);
    EXPECT_EQ(s.redis.connect_timeout, std::chrono::milliseconds(1500));
    EXPECT_EQ(s.task.id_pattern, "^[a-f0-9-]+$");
    EXPECT_EQ(s.task.max_id_length, 64u);
    EXPECT_EQ(s.watch.keepalive, std::chrono::seconds(0));
    EXPECT_EQ(s.watch.timeout, std::chrono::seconds(120));
    EXPECT_EQ(s.sse.retry, std::chrono::milliseconds(250));
    EXPECT_EQ(s.sse.keepalive, std::chrono::seconds(0));
    EXPECT_EQ(s.log.level, "debug");
}

TEST(ConfigKeys, IPv4AddressAccepted) {
    EXPECT_EQ(parse(R"({"http":{"address":"0.0.0.0"}})").http.address, "0.0.0.0");
}

TEST(ConfigKeys, EveryLogLevelAccepted) {
    for (const char* level : {"trace", "debug", "info", "warn", "error", "critical", "off"})
        EXPECT_EQ(parse(doc("log", "level", std::string("\"") + level + "\"")).log.level, level)
            << level;
}

TEST(ConfigKeys, EmptyCorsListAccepted) {
    EXPECT_TRUE(parse(R"({"http":{"cors_origins":[]}})").http.cors_origins.empty());
}

TEST(ConfigKeys, EmptyStringsAcceptedWhereTheyMeanOff) {
    const settings s = parse(R"({"redis":{"unix_socket":"","username":"","password":"",
                                          "prefix":""}})");
    EXPECT_EQ(s.redis.unix_socket, "");
    EXPECT_EQ(s.redis.username, "");
    EXPECT_EQ(s.redis.password, "");
    EXPECT_EQ(s.redis.prefix, "");
}

// ---- ranged integers: both ends accepted, one past each end rejected ---------

struct ranged_key {
    const char* section;
    const char* key;
    long long lo;
    long long hi;
};

// The ranges of the spec's table (section 7), plus the TCP port range for
// redis.port and "0 or more" for redis.db.
const ranged_key ranged_keys[] = {
    {"http", "port", 1, 65535},
    {"http", "max_connections", 1, 10000000},
    {"http", "request_timeout_seconds", 1, 3600},
    {"http", "idle_timeout_seconds", 1, 86400},
    {"http", "max_header_bytes", 1024, 1048576},
    {"http", "max_output_bytes", 4096, 1073741824},
    {"redis", "port", 1, 65535},
    {"redis", "command_timeout_ms", 1, 600000},
    {"task", "signature_bytes", 8, 32},
    {"redis", "subscriber_connections", 1, 256},
    {"task", "max_id_length", 1, 1024},
    {"watch", "keepalive_seconds", 0, 3600},
    {"watch", "timeout_seconds", 0, 604800},
    // MODES.md 6 ("Config").
    {"sse", "retry_ms", 0, 3600000},
    {"sse", "keepalive_seconds", 0, 3600},
};

class ConfigRange : public ::testing::TestWithParam<ranged_key> {};

TEST_P(ConfigRange, BothEndsAccepted) {
    const auto& k = GetParam();
    EXPECT_NO_THROW(parse(doc(k.section, k.key, std::to_string(k.lo))));
    EXPECT_NO_THROW(parse(doc(k.section, k.key, std::to_string(k.hi))));
}

TEST_P(ConfigRange, BelowTheRangeRejectedNamingTheKey) {
    const auto& k = GetParam();
    const std::string name = std::string(k.section) + "." + k.key + ": ";
    const std::string msg = error_of(doc(k.section, k.key, std::to_string(k.lo - 1)));
    EXPECT_TRUE(starts_with(msg, name)) << msg;
}

TEST_P(ConfigRange, AboveTheRangeRejectedNamingTheKey) {
    const auto& k = GetParam();
    const std::string name = std::string(k.section) + "." + k.key + ": ";
    const std::string msg = error_of(doc(k.section, k.key, std::to_string(k.hi + 1)));
    EXPECT_TRUE(starts_with(msg, name)) << msg;
}

TEST_P(ConfigRange, HugeValuesRejectedNamingTheKey) {
    const auto& k = GetParam();
    const std::string name = std::string(k.section) + "." + k.key + ": ";
    EXPECT_TRUE(starts_with(error_of(doc(k.section, k.key, "18446744073709551615")), name));
    EXPECT_TRUE(starts_with(error_of(doc(k.section, k.key, "-9223372036854775808")), name));
}

TEST_P(ConfigRange, NonIntegersRejectedNamingTheKey) {
    const auto& k = GetParam();
    const std::string name = std::string(k.section) + "." + k.key + ": ";
    for (const char* bad : {"\"10\"", "10.5", "true", "null", "[10]", "{}"}) {
        const std::string msg = error_of(doc(k.section, k.key, bad));
        EXPECT_TRUE(starts_with(msg, name)) << bad << " -> " << msg;
    }
}

TEST_P(ConfigRange, TheValueIsStoredExactly) {
    const auto& k = GetParam();
    const long long mid = k.lo + (k.hi - k.lo) / 3;
    const settings s = parse(doc(k.section, k.key, std::to_string(mid)));
    const std::string key = std::string(k.section) + "." + k.key;
    long long got = -1;
    if (key == "http.port")
        got = s.http.port;
    else if (key == "http.max_connections")
        got = s.http.max_connections;
    else if (key == "http.request_timeout_seconds")
        got = s.http.request_timeout.count();
    else if (key == "http.idle_timeout_seconds")
        got = s.http.idle_timeout.count();
    else if (key == "http.max_header_bytes")
        got = s.http.max_header_bytes;
    else if (key == "http.max_output_bytes")
        got = s.http.max_output_bytes;
    else if (key == "redis.port")
        got = s.redis.port;
    else if (key == "redis.command_timeout_ms")
        got = s.redis.command_timeout.count();
    else if (key == "task.signature_bytes")
        got = s.task.signature_bytes;
    else if (key == "redis.subscriber_connections")
        got = s.redis.subscriber_connections;
    else if (key == "task.max_id_length")
        got = s.task.max_id_length;
    else if (key == "watch.keepalive_seconds")
        got = s.watch.keepalive.count();
    else if (key == "watch.timeout_seconds")
        got = s.watch.timeout.count();
    else if (key == "sse.retry_ms")
        got = s.sse.retry.count();
    else if (key == "sse.keepalive_seconds")
        got = s.sse.keepalive.count();
    EXPECT_EQ(got, mid) << key;
}

INSTANTIATE_TEST_SUITE_P(AllRangedKeys, ConfigRange, ::testing::ValuesIn(ranged_keys),
                         [](const ::testing::TestParamInfo<ranged_key>& info) {
                             return std::string(info.param.section) + "_" + info.param.key;
                         });

TEST(ConfigKeys, RedisDbZeroOrMore) {
    EXPECT_EQ(parse(doc("redis", "db", "0")).redis.db, 0u);
    EXPECT_EQ(parse(doc("redis", "db", "15")).redis.db, 15u);
    EXPECT_TRUE(starts_with(error_of(doc("redis", "db", "-1")), "redis.db: "));
    EXPECT_TRUE(starts_with(error_of(doc("redis", "db", "\"1\"")), "redis.db: "));
    EXPECT_TRUE(starts_with(error_of(doc("redis", "db", "1.5")), "redis.db: "));
}

TEST(ConfigKeys, ConnectTimeoutMustBeAPositiveInteger) {
    EXPECT_EQ(parse(doc("redis", "connect_timeout_ms", "1")).redis.connect_timeout,
              std::chrono::milliseconds(1));
    EXPECT_TRUE(starts_with(error_of(doc("redis", "connect_timeout_ms", "\"2000\"")),
                            "redis.connect_timeout_ms: "));
    EXPECT_TRUE(starts_with(error_of(doc("redis", "connect_timeout_ms", "-1")),
                            "redis.connect_timeout_ms: "));
}

// ---- wrong types of the non-integer keys ---------------------------------------

struct typed_key {
    const char* section;
    const char* key;
    const char* wrong;
};

const typed_key wrongly_typed[] = {
    {"http", "address", "127"},
    {"http", "address", "null"},
    {"http", "always_200", "1"},
    {"http", "always_200", "\"true\""},
    {"http", "cors_origins", "\"*\""},
    {"http", "cors_origins", "[1]"},
    {"http", "cors_origins", "[\"https://a.example\", null]"},
    {"http", "cors_origins", "{}"},
    {"redis", "host", "1"},
    {"redis", "host", "[\"h\"]"},
    {"redis", "unix_socket", "false"},
    {"redis", "username", "7"},
    {"redis", "password", "123456"},
    {"redis", "prefix", "null"},
    {"task", "id_pattern", "1"},
    {"log", "level", "1"},
    {"log", "level", "[\"info\"]"},
};

class ConfigWrongType : public ::testing::TestWithParam<typed_key> {};

TEST_P(ConfigWrongType, RejectedNamingTheKey) {
    const auto& k = GetParam();
    const std::string msg = error_of(doc(k.section, k.key, k.wrong));
    EXPECT_TRUE(starts_with(msg, std::string(k.section) + "." + k.key + ": ")) << msg;
}

INSTANTIATE_TEST_SUITE_P(NonIntegerKeys, ConfigWrongType, ::testing::ValuesIn(wrongly_typed));

// ---- values of the right type that are still wrong -----------------------------

TEST(ConfigValues, InvalidAddressRejected) {
    for (const char* bad : {"\"localhost\"", "\"\"", "\"256.0.0.1\"", "\"1.2.3\"", "\":::1::x\""})
        EXPECT_TRUE(starts_with(error_of(doc("http", "address", bad)), "http.address: ")) << bad;
}

TEST(ConfigValues, InvalidRegexRejected) {
    for (const char* bad : {"\"[a-z\"", "\"(abc\"", "\"*x\"", "\"a{2,1}\""})
        EXPECT_TRUE(starts_with(error_of(doc("task", "id_pattern", bad)), "task.id_pattern: "))
            << bad;
}

TEST(ConfigValues, LogLevelOutsideTheListRejected) {
    for (const char* bad : {"\"INFO\"", "\"warning\"", "\"\"", "\"verbose\"", "\"info \""})
        EXPECT_TRUE(starts_with(error_of(doc("log", "level", bad)), "log.level: ")) << bad;
}

TEST(ConfigValues, EmptyRedisHostRejected) {
    EXPECT_TRUE(starts_with(error_of(doc("redis", "host", "\"\"")), "redis.host: "));
}

TEST(ConfigValues, ALaterErrorStillNamesItsOwnKey) {
    const std::string msg = error_of(R"({"http":{"port":80,"max_header_bytes":10}})");
    EXPECT_TRUE(starts_with(msg, "http.max_header_bytes: ")) << msg;
}

// ---- document structure ----------------------------------------------------------

TEST(ConfigStructure, UnknownKeyInAKnownSection) {
    EXPECT_EQ(error_of(R"({"redis":{"prot":6379}})"), "redis.prot: unknown key");
    EXPECT_EQ(error_of(R"({"http":{"Port":1}})"), "http.Port: unknown key");
    EXPECT_EQ(error_of(R"({"log":{"path":"x"}})"), "log.path: unknown key");
}

TEST(ConfigStructure, KeyOfAnotherSectionIsUnknown) {
    EXPECT_EQ(error_of(R"({"http":{"host":"x"}})"), "http.host: unknown key");
    EXPECT_EQ(error_of(R"({"watch":{"level":"info"}})"), "watch.level: unknown key");
    // watch.timeout_seconds exists; an SSE stream has no time-out of its own.
    EXPECT_EQ(error_of(R"({"sse":{"timeout_seconds":1}})"), "sse.timeout_seconds: unknown key");
}

TEST(ConfigStructure, UnknownSseKeys) {
    EXPECT_EQ(error_of(R"({"sse":{"retry":3000}})"), "sse.retry: unknown key");
    EXPECT_EQ(error_of(R"({"sse":{"keepalive":15}})"), "sse.keepalive: unknown key");
    EXPECT_EQ(error_of(R"({"sse":{"Retry_ms":1}})"), "sse.Retry_ms: unknown key");
}

TEST(ConfigKeys, SseKeysAreIndependentOfTheWatchKeys) {
    const settings s = parse(R"({"watch":{"keepalive_seconds":3},"sse":{"keepalive_seconds":7}})");
    EXPECT_EQ(s.watch.keepalive, std::chrono::seconds(3));
    EXPECT_EQ(s.sse.keepalive, std::chrono::seconds(7));
    EXPECT_EQ(s.sse.retry, std::chrono::milliseconds(3000)) << "an unset key keeps its default";
}

TEST(ConfigStructure, UnknownSection) {
    const std::string msg = error_of(R"({"server":{"port":1}})");
    EXPECT_TRUE(starts_with(msg, "server: ")) << msg;
    EXPECT_NE(msg.find("unknown"), std::string::npos) << msg;
}

TEST(ConfigStructure, SectionNotAnObject) {
    for (const char* section : {"http", "redis", "task", "watch", "sse", "log"}) {
        for (const char* bad : {"1", "\"x\"", "[]", "null", "true"}) {
            const std::string msg = error_of(std::string("{\"") + section + "\":" + bad + "}");
            EXPECT_TRUE(starts_with(msg, std::string(section) + ": ")) << bad << " -> " << msg;
        }
    }
}

TEST(ConfigStructure, TopLevelNotAnObject) {
    for (const char* bad : {"[]", "[{}]", "1", "\"{}\"", "null", "true"}) {
        const std::string msg = error_of(bad);
        EXPECT_TRUE(starts_with(msg, "top level: ")) << bad << " -> " << msg;
    }
}

TEST(ConfigStructure, InvalidJson) {
    for (const char* bad : {"", "{", "{\"http\":}", "{'http':{}}", "{} {}", "{\"http\":{},}"}) {
        const std::string msg = error_of(bad);
        EXPECT_TRUE(starts_with(msg, "invalid JSON: ")) << bad << " -> " << msg;
    }
}

// ---- files and the environment ---------------------------------------------------

class ConfigFile : public ::testing::Test {
protected:
    void SetUp() override {
        ::unsetenv("REDIS_PUSH_REDIS_PASSWORD");
        char templ[] = "/tmp/rpd-config-test-XXXXXX";
        ASSERT_NE(::mkdtemp(templ), nullptr);
        dir_ = templ;
    }
    void TearDown() override {
        ::unsetenv("REDIS_PUSH_REDIS_PASSWORD");
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::string write(const std::string& name, const std::string& text) {
        const std::string path = dir_ + "/" + name;
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
    std::string dir_;
};

TEST_F(ConfigFile, LoadsAFile) {
    const auto path = write("push.json", R"({"http":{"port":9999},"redis":{"prefix":"P_"}})");
    const settings s = rpd::config::load_file(path);
    EXPECT_EQ(s.http.port, 9999);
    EXPECT_EQ(s.redis.prefix, "P_");
    EXPECT_EQ(s.redis.password, "");
}

TEST_F(ConfigFile, MissingFileNamesThePath) {
    const std::string path = dir_ + "/does-not-exist.json";
    try {
        rpd::config::load_file(path);
        FAIL() << "no error";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

TEST_F(ConfigFile, DirectoryIsAnError) {
    EXPECT_THROW(rpd::config::load_file(dir_), config_error);
}

TEST_F(ConfigFile, InvalidJsonInAFile) {
    const auto path = write("bad.json", "{\"http\":");
    EXPECT_THROW(rpd::config::load_file(path), config_error);
}

TEST_F(ConfigFile, KeyErrorsFromAFileNameTheKey) {
    const auto path = write("bad.json", R"({"redis":{"prot":1}})");
    try {
        rpd::config::load_file(path);
        FAIL() << "no error";
    } catch (const config_error& e) {
        EXPECT_STREQ(e.what(), "redis.prot: unknown key");
    }
}

TEST_F(ConfigFile, EnvironmentPasswordWinsOverTheFile) {
    const auto path = write("push.json", R"({"redis":{"password":"from-file"}})");
    EXPECT_EQ(rpd::config::load_file(path).redis.password, "from-file");
    ::setenv("REDIS_PUSH_REDIS_PASSWORD", "from-env", 1);
    EXPECT_EQ(rpd::config::load_file(path).redis.password, "from-env");
}

TEST_F(ConfigFile, EnvironmentPasswordAppliesWithoutAPasswordKey) {
    const auto path = write("push.json", "{}");
    ::setenv("REDIS_PUSH_REDIS_PASSWORD", "s3cr3t", 1);
    EXPECT_EQ(rpd::config::load_file(path).redis.password, "s3cr3t");
}

TEST_F(ConfigFile, ApplyEnvironment) {
    settings s;
    s.redis.password = "kept";
    rpd::config::apply_environment(s);
    EXPECT_EQ(s.redis.password, "kept");
    ::setenv("REDIS_PUSH_REDIS_PASSWORD", "over", 1);
    rpd::config::apply_environment(s);
    EXPECT_EQ(s.redis.password, "over");
    // Nothing else changes.
    EXPECT_EQ(s.redis.username, "");
    EXPECT_EQ(s.redis.host, "127.0.0.1");
}

} // namespace

namespace {
TEST(ConfigPaths, LogFileFolderAndStaticDirMustExist) {
    rpd::config::settings s;
    EXPECT_NO_THROW(rpd::config::check_paths(s));
    s.log.file = "/nonexistent-folder-rpd/daemon.log";
    try {
        rpd::config::check_paths(s);
        ADD_FAILURE() << "missing log folder accepted";
    } catch (const rpd::config::config_error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("log.file: ", 0), 0u) << e.what();
    }
    s.log.file = "relative.log"; // the working directory
    EXPECT_NO_THROW(rpd::config::check_paths(s));
    s.http.static_dir = "/nonexistent-folder-rpd";
    try {
        rpd::config::check_paths(s);
        ADD_FAILURE() << "missing static_dir accepted";
    } catch (const rpd::config::config_error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("http.static_dir: ", 0), 0u) << e.what();
    }
    s.http.static_dir = "/";
    EXPECT_NO_THROW(rpd::config::check_paths(s));
}
} // namespace

namespace {
TEST(ConfigSigning, SecretOrSecretFileNotBoth) {
    EXPECT_EQ(parse(R"({"task":{"signing_secret":"k"}})").task.signing_secret, "k");
    const std::string msg =
        error_of(R"({"task":{"signing_secret":"k","signing_secret_file":"/etc/x"}})");
    EXPECT_TRUE(starts_with(msg, "task.signing_secret_file: ")) << msg;
}

TEST_F(ConfigFile, SecretFileIsReadWithoutItsTrailingNewline) {
    const std::string secret_path = write("secret", "s3cret\n");
    const std::string cfg =
        write("push.json", R"({"task":{"signing_secret_file":")" + secret_path + R"("}})");
    EXPECT_EQ(rpd::config::load_file(cfg).task.signing_secret, "s3cret");
}

TEST_F(ConfigFile, MissingOrEmptySecretFileIsAnError) {
    for (const std::string& path : {std::string("/nonexistent-rpd/secret"), write("empty", "\n")}) {
        const std::string cfg =
            write("push.json", R"({"task":{"signing_secret_file":")" + path + R"("}})");
        try {
            rpd::config::load_file(cfg);
            ADD_FAILURE() << path << " accepted";
        } catch (const rpd::config::config_error& e) {
            EXPECT_TRUE(starts_with(e.what(), "task.signing_secret_file: ")) << e.what();
        }
    }
}
} // namespace
