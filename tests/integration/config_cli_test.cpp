// Section 7: configuration file and command line, through the real binary.
#include "common.hpp"

using namespace rpd::test;

namespace {

class ConfigCli : public ::testing::Test {
protected:
    std::string write_config(const std::string& content) {
        auto path = dir_.file("cfg" + std::to_string(n_++) + ".json");
        write_file(path, content);
        return path;
    }
    run_result check(const std::string& content) {
        return run_command({daemon_binary(), "--config", write_config(content), "--check-config"},
                           10000ms);
    }
    run_result start(const std::string& content) {
        return run_command({daemon_binary(), "--config", write_config(content)}, 10000ms);
    }
    temp_dir dir_;
    int n_ = 0;
};

TEST_F(ConfigCli, VersionExitsZero) {
    auto r = run_command({daemon_binary(), "--version"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE((r.out + r.err).empty());
    EXPECT_TRUE(contains(r.out + r.err, "0.")) << "no version number: " << r.out << r.err;
}

TEST_F(ConfigCli, HelpExitsZero) {
    auto r = run_command({daemon_binary(), "--help"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(r.out + r.err, "--config")) << r.out << r.err;
}

TEST_F(ConfigCli, CheckConfigOfAGoodFileExitsZero) {
    auto r = check(R"({"http":{"port":18888},"redis":{"prefix":"X_"},"log":{"level":"warn"}})");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto empty = check("{}");
    EXPECT_EQ(empty.exit_code, 0) << empty.err;
}

TEST_F(ConfigCli, CheckConfigOfEveryKeyWithItsDefault) {
    const char* all = R"({
      "http": {"address": "127.0.0.1", "port": 8888, "always_200": false, "cors_origins": [],
               "max_connections": 100000, "request_timeout_seconds": 30, "idle_timeout_seconds": 60,
               "max_header_bytes": 8192},
      "redis": {"host": "127.0.0.1", "port": 6379, "unix_socket": "", "username": "", "password": "",
                "db": 0, "prefix": "RA_", "subscriber_connections": 4, "connect_timeout_ms": 2000},
      "task": {"id_pattern": "^[A-Za-z0-9_]+$", "max_id_length": 32},
      "watch": {"keepalive_seconds": 10, "timeout_seconds": 0},
      "sse": {"retry_ms": 3000, "keepalive_seconds": 15},
      "log": {"level": "info"}
    })";
    auto r = check(all);
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(ConfigCli, CheckConfigAcceptsBoundaryValues) {
    for (const char* c :
         {R"({"http":{"port":1}})", R"({"http":{"port":65535}})",
          R"({"http":{"max_header_bytes":1024}})", R"({"http":{"max_header_bytes":1048576}})",
          R"({"redis":{"subscriber_connections":1}})",
          R"({"redis":{"subscriber_connections":256}})", R"({"task":{"max_id_length":1}})",
          R"({"task":{"max_id_length":1024}})", R"({"watch":{"keepalive_seconds":0}})",
          R"({"watch":{"timeout_seconds":604800}})", R"({"http":{"cors_origins":["*"]}})",
          R"({"http":{"address":"::1"}})", R"({"log":{"level":"off"}})",
          R"({"log":{"level":"trace"}})", R"({"sse":{"retry_ms":0}})",
          R"({"sse":{"retry_ms":3600000}})", R"({"sse":{"keepalive_seconds":0}})",
          R"({"sse":{"keepalive_seconds":3600}})"}) {
        SCOPED_TRACE(c);
        auto r = check(c);
        EXPECT_EQ(r.exit_code, 0) << r.err;
    }
}

struct bad_case {
    const char* json;
    const char* key; // stderr must name it
};

TEST_F(ConfigCli, BadConfigsAreRejectedNamingTheKey) {
    const std::vector<bad_case> cases = {
        {R"({"redis":{"prot":6379}})", "redis.prot"},
        {R"({"http":{"portt":1}})", "http.portt"},
        {R"({"bogus":{}})", "bogus"},
        {R"({"http":{"port":"8888"}})", "http.port"},
        {R"({"http":{"port":70000}})", "http.port"},
        {R"({"http":{"port":0}})", "http.port"},
        {R"({"http":{"port":-1}})", "http.port"},
        {R"({"http":{"port":8888.5}})", "http.port"},
        {R"({"http":{"always_200":"yes"}})", "http.always_200"},
        {R"({"http":{"cors_origins":"*"}})", "http.cors_origins"},
        {R"({"http":{"cors_origins":[1]}})", "http.cors_origins"},
        {R"({"http":{"max_connections":0}})", "http.max_connections"},
        {R"({"http":{"request_timeout_seconds":0}})", "http.request_timeout_seconds"},
        {R"({"http":{"idle_timeout_seconds":86401}})", "http.idle_timeout_seconds"},
        {R"({"http":{"max_header_bytes":100}})", "http.max_header_bytes"},
        {R"({"http":{"max_header_bytes":2000000}})", "http.max_header_bytes"},
        {R"({"redis":{"port":"x"}})", "redis.port"},
        {R"({"redis":{"db":-1}})", "redis.db"},
        {R"({"redis":{"subscriber_connections":0}})", "redis.subscriber_connections"},
        {R"({"redis":{"subscriber_connections":257}})", "redis.subscriber_connections"},
        {R"({"redis":{"prefix":5}})", "redis.prefix"},
        {R"({"task":{"max_id_length":0}})", "task.max_id_length"},
        {R"({"task":{"max_id_length":1025}})", "task.max_id_length"},
        {R"({"task":{"id_pattern":"([a-z"}})", "task.id_pattern"},
        {R"({"watch":{"keepalive_seconds":-1}})", "watch.keepalive_seconds"},
        {R"({"watch":{"keepalive_seconds":3601}})", "watch.keepalive_seconds"},
        {R"({"watch":{"timeout_seconds":604801}})", "watch.timeout_seconds"},
        {R"({"sse":{"retry_ms":-1}})", "sse.retry_ms"},
        {R"({"sse":{"retry_ms":3600001}})", "sse.retry_ms"},
        {R"({"sse":{"retry_ms":"3000"}})", "sse.retry_ms"},
        {R"({"sse":{"keepalive_seconds":3601}})", "sse.keepalive_seconds"},
        {R"({"sse":{"keepalive_seconds":1.5}})", "sse.keepalive_seconds"},
        {R"({"sse":{"keepalive":15}})", "sse.keepalive"},
        {R"({"sse":15})", "sse"},
        {R"({"log":{"level":"loud"}})", "log.level"},
        {R"({"log":"info"})", "log"},
        {R"({"http":[]})", "http"},
    };
    for (auto& c : cases) {
        SCOPED_TRACE(c.json);
        auto r = check(c.json);
        EXPECT_NE(r.exit_code, 0) << "accepted";
        EXPECT_FALSE(r.timed_out);
        EXPECT_TRUE(contains(r.err, c.key)) << "stderr does not name `" << c.key << "`: " << r.err;
    }
}

TEST_F(ConfigCli, CheckConfigOfABadFileExitsTwo) {
    // The daemon's documented convention (docs/config.md; the spec only says non-zero).
    auto r = check(R"({"redis":{"prot":6379}})");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    auto j = check("{");
    EXPECT_EQ(j.exit_code, 2) << j.err;
    // The sse section (MODES.md 5: "validated like the core's ... exit 2 naming it").
    for (const char* c : {R"({"sse":{"retry":1}})", R"({"sse":{"retry_ms":true}})",
                          R"({"sse":{"keepalive_seconds":-1}})"}) {
        SCOPED_TRACE(c);
        auto e = check(c);
        EXPECT_EQ(e.exit_code, 2) << e.err;
        auto s = start(c);
        EXPECT_FALSE(s.timed_out) << "the daemon started with " << c;
        EXPECT_EQ(s.exit_code, 2) << s.err;
        EXPECT_TRUE(contains(s.err, "sse.")) << s.err;
    }
}

TEST_F(ConfigCli, ShippedPushJsonIsValid) {
    // config/push.json lists every key with its default and is installed by
    // the package: it must load with the daemon it ships with.
    auto r = run_command({daemon_binary(), "--config",
                          std::string(RPD_SOURCE_DIR) + "/config/push.json", "--check-config"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(ConfigCli, ErrorMessageIsOneLineNamingKeyAndProblem) {
    auto r = check(R"({"redis":{"prot":6379}})");
    EXPECT_TRUE(contains(r.err, "redis.prot")) << r.err;
    EXPECT_TRUE(contains(r.err, "unknown"))
        << "the spec's example: `redis.prot: unknown key`; got: " << r.err;
}

TEST_F(ConfigCli, RealStartWithBadConfigFailsNamingTheKey) {
    // Not just --check-config: the daemon itself refuses to start.
    auto r = start(R"({"redis":{"prot":6379},"http":{"port":1}})");
    EXPECT_FALSE(r.timed_out) << "the daemon started with an unknown key";
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(contains(r.err, "redis.prot")) << r.err;
    auto r2 = start(R"({"watch":{"timeout_seconds":-5}})");
    EXPECT_FALSE(r2.timed_out);
    EXPECT_NE(r2.exit_code, 0);
    EXPECT_TRUE(contains(r2.err, "watch.timeout_seconds")) << r2.err;
}

TEST_F(ConfigCli, InvalidJsonIsRejected) {
    for (const char* c : {"{", "{\"http\":}", "not json", "", "[]", "42"}) {
        SCOPED_TRACE(c);
        auto r = check(c);
        EXPECT_NE(r.exit_code, 0);
        EXPECT_FALSE(r.err.empty()) << "no message on stderr";
        auto s = start(c);
        EXPECT_FALSE(s.timed_out);
        EXPECT_NE(s.exit_code, 0);
    }
}

TEST_F(ConfigCli, MissingFileIsRejected) {
    auto path = dir_.file("does-not-exist.json");
    auto r = run_command({daemon_binary(), "--config", path, "--check-config"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_FALSE(r.err.empty());
    auto s = run_command({daemon_binary(), "--config", path});
    EXPECT_FALSE(s.timed_out);
    EXPECT_NE(s.exit_code, 0);
}

TEST_F(ConfigCli, UnreadableFileIsRejected) {
    // A directory is never readable as a file (works as root too).
    auto r = run_command({daemon_binary(), "--config", dir_.path(), "--check-config"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_FALSE(r.err.empty());
}

TEST_F(ConfigCli, UnknownOptionFails) {
    auto r = run_command({daemon_binary(), "--no-such-option"});
    EXPECT_FALSE(r.timed_out);
    EXPECT_NE(r.exit_code, 0);
}

TEST(ConfigRuntime, EveryKeyExplicitlyAtDefaultsStarts) {
    redis_server redis;
    json cfg = {
        {"http",
         {{"always_200", false},
          {"cors_origins", json::array()},
          {"max_connections", 100000},
          {"request_timeout_seconds", 30},
          {"idle_timeout_seconds", 60},
          {"max_header_bytes", 8192}}},
        {"redis",
         {{"unix_socket", ""},
          {"username", ""},
          {"password", ""},
          {"db", 0},
          {"prefix", "RA_"},
          {"subscriber_connections", 4},
          {"connect_timeout_ms", 2000}}},
        {"task", {{"id_pattern", "^[A-Za-z0-9_]+$"}, {"max_id_length", 32}}},
        {"watch", {{"keepalive_seconds", 10}, {"timeout_seconds", 0}}},
        {"sse", {{"retry_ms", 3000}, {"keepalive_seconds", 15}}},
        {"log", {{"level", "info"}}},
    };
    daemon_process d(redis.port(), cfg);
    EXPECT_EQ(http_get(d.port(), "/healthz").status, 200);
}

TEST(ConfigRuntime, PortInUseFailsCleanly) {
    redis_server redis;
    daemon_process a(redis.port());
    temp_dir dir;
    json cfg = a.config();
    write_file(dir.file("b.json"), cfg.dump());
    auto r = run_command({daemon_binary(), "--config", dir.file("b.json")}, 10000ms);
    EXPECT_FALSE(r.timed_out) << "second daemon on the same port kept running";
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(http_get(a.port(), "/healthz").status, 200);
}

} // namespace
