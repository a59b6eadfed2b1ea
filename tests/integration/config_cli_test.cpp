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

// ---- the modes' keys (MODES.md 5, 6 "Config") --------------------------------------

TEST_F(ConfigCli, CheckConfigAcceptsTheModesKeys) {
    for (
        const char* c : {
            R"({"queue":{"enabled":false,"timeout_seconds":0,"max_timeout_seconds":86400,
                 "name_pattern":"^[a-z]+$","visibility_timeout_seconds":1,"allow_publish":true,
                 "max_message_bytes":16777216}})",
            R"({"mailbox":{"key_prefix":"","notify_list":"N","timeout_seconds":86400,
                 "max_timeout_seconds":1}})",
            R"({"stream":{"maxlen":0,"max_count":100000,"claim_idle_ms":100,"timeout_seconds":0}})",
            R"({"history":{"enabled":false,"max_scan":10000000,"accept_timeout_seconds":3600}})",
            R"({"ws":{"paths":["/ws","/socket"],"ping_seconds":1,"max_message_bytes":1024,
                 "max_subscriptions":10000}})",
            R"({"modes":{"recheck_ms":50}})",
            R"({"redis":{"keyspace_events":"off"}})",
        }) {
        SCOPED_TRACE(c);
        auto r = check(c);
        EXPECT_EQ(r.exit_code, 0) << r.err;
    }
}

TEST_F(ConfigCli, BadModesKeysExitTwoNamingTheKey) {
    const std::vector<bad_case> cases = {
        {R"({"queue":{"timeout":1}})", "queue.timeout"},
        {R"({"queue":{"timeout_seconds":86401}})", "queue.timeout_seconds"},
        {R"({"queue":{"max_timeout_seconds":0}})", "queue.max_timeout_seconds"},
        {R"({"queue":{"name_pattern":"([a-z"}})", "queue.name_pattern"},
        {R"({"queue":{"allow_publish":"yes"}})", "queue.allow_publish"},
        {R"({"mailbox":{"key_prefix":1}})", "mailbox.key_prefix"},
        {R"({"mailbox":{"name_pattern":"a**"}})", "mailbox.name_pattern"},
        {R"({"stream":{"maxlen":2147483648}})", "stream.maxlen"},
        {R"({"stream":{"claim_idle_ms":99}})", "stream.claim_idle_ms"},
        {R"({"history":{"max_scan":0}})", "history.max_scan"},
        {R"({"ws":{"paths":[]}})", "ws.paths"},
        {R"({"ws":{"paths":["ws"]}})", "ws.paths"},
        {R"({"ws":{"enabled":true}})", "ws.enabled"},
        {R"({"modes":{"recheck_ms":49}})", "modes.recheck_ms"},
        {R"({"redis":{"keyspace_events":"on"}})", "redis.keyspace_events"},
        {R"({"stream":[]})", "stream"},
    };
    for (auto& c : cases) {
        SCOPED_TRACE(c.json);
        auto r = check(c.json);
        EXPECT_EQ(r.exit_code, 2) << r.err;
        EXPECT_TRUE(contains(r.err, c.key)) << "stderr does not name `" << c.key << "`: " << r.err;
    }
    // The daemon itself refuses to start too, not just --check-config.
    auto s = start(R"({"queue":{"visibility_timeout_seconds":0}})");
    EXPECT_FALSE(s.timed_out) << "the daemon started with a bad queue key";
    EXPECT_EQ(s.exit_code, 2) << s.err;
    EXPECT_TRUE(contains(s.err, "queue.visibility_timeout_seconds")) << s.err;
}

// ---- --sign-for and --publish-token (MODES.md 0, 6) --------------------------------------

class SigningCli : public ConfigCli {
protected:
    static constexpr const char* secret = "t0p-s3cret";
    // HMAC-SHA256(secret, message) by openssl, its first `bytes` bytes as
    // base64url without padding: computed apart from the daemon.
    static std::string reference(const std::string& message, int bytes) {
        auto r = run_command({"/bin/sh", "-c",
                              "printf '%s' \"$1\" | openssl dgst -sha256 -hmac \"$2\" -binary | "
                              "head -c \"$3\" | base64 -w0 | tr '+/' '-_' | tr -d '='",
                              "sh", message, secret, std::to_string(bytes)});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.out;
    }
    // The daemon's stdout for `--config <secret config> args...`.
    run_result daemon(const std::vector<std::string>& args, int signature_bytes = 16) {
        std::vector<std::string> argv = {
            daemon_binary(), "--config",
            write_config(
                json{{"task", {{"signing_secret", secret}, {"signature_bytes", signature_bytes}}}}
                    .dump())};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, 10000ms);
    }
};

TEST_F(SigningCli, SignForSignsTheNameWithTheModePrefix) {
    for (const char* mode : {"queue", "mailbox", "stream"}) {
        SCOPED_TRACE(mode);
        auto r = daemon({"--sign", "orders.eu", "--sign-for", mode});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const std::string sig = reference(std::string(mode) + ":orders.eu", 16);
        ASSERT_EQ(sig.size(), 22u) << sig;
        EXPECT_EQ(r.out, "orders.eu." + sig + "\n");
        // Either order of the options.
        EXPECT_EQ(daemon({"--sign-for", mode, "--sign", "orders.eu"}).out, r.out);
    }
}

TEST_F(SigningCli, SignForFollowsSignatureBytes) {
    auto r = daemon({"--sign", "user@example.com", "--sign-for", "mailbox"}, 8);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string sig = reference("mailbox:user@example.com", 8);
    ASSERT_EQ(sig.size(), 11u) << sig;
    EXPECT_EQ(r.out, "user@example.com." + sig + "\n");
}

TEST_F(SigningCli, EachModeSignsDifferentlyAndSignStaysTheTaskSigner) {
    const auto queue = daemon({"--sign", "abc", "--sign-for", "queue"}).out;
    const auto mailbox = daemon({"--sign", "abc", "--sign-for", "mailbox"}).out;
    const auto stream = daemon({"--sign", "abc", "--sign-for", "stream"}).out;
    const auto task = daemon({"--sign", "abc"});
    ASSERT_EQ(task.exit_code, 0) << task.err;
    EXPECT_EQ(task.out, "abc." + reference("abc", 16) + "\n");
    EXPECT_NE(queue, mailbox);
    EXPECT_NE(queue, stream);
    EXPECT_NE(mailbox, stream);
    EXPECT_NE(task.out, queue);
}

TEST_F(SigningCli, PublishTokenIsTheFullHmacOfPublishName) {
    auto r = daemon({"--publish-token", "events"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string token = reference("publish:events", 32);
    ASSERT_EQ(token.size(), 43u) << token; // 32 bytes, base64url, no padding
    EXPECT_EQ(r.out, token + "\n");
    // Not cut to task.signature_bytes.
    EXPECT_EQ(daemon({"--publish-token", "events"}, 8).out, r.out);
    EXPECT_NE(daemon({"--publish-token", "other"}).out, r.out);
}

TEST_F(SigningCli, BadUsesAreRefused) {
    auto mode = daemon({"--sign", "abc", "--sign-for", "task"});
    EXPECT_EQ(mode.exit_code, 2);
    EXPECT_TRUE(contains(mode.err, "--sign-for")) << mode.err;
    EXPECT_TRUE(mode.out.empty()) << mode.out;
    auto alone = daemon({"--sign-for", "queue"});
    EXPECT_EQ(alone.exit_code, 2);
    EXPECT_TRUE(contains(alone.err, "--sign")) << alone.err;
    EXPECT_TRUE(alone.out.empty()) << alone.out;
    auto both = daemon({"--sign", "abc", "--publish-token", "abc"});
    EXPECT_EQ(both.exit_code, 2);
    EXPECT_TRUE(both.out.empty()) << both.out;
    auto missing = daemon({"--publish-token"});
    EXPECT_EQ(missing.exit_code, 2);
}

TEST_F(SigningCli, WithoutASecretBothAreConfigErrors) {
    auto t = run_command({daemon_binary(), "--publish-token", "events"});
    EXPECT_EQ(t.exit_code, 2);
    EXPECT_TRUE(contains(t.err, "signing_secret")) << t.err;
    EXPECT_TRUE(t.out.empty()) << t.out;
    auto s = run_command({daemon_binary(), "--sign", "abc", "--sign-for", "stream"});
    EXPECT_EQ(s.exit_code, 2);
    EXPECT_TRUE(contains(s.err, "signing_secret")) << s.err;
}

TEST_F(ConfigCli, HelpNamesTheSigningOptions) {
    auto r = run_command({daemon_binary(), "--help"});
    EXPECT_TRUE(contains(r.out, "--sign-for")) << r.out;
    EXPECT_TRUE(contains(r.out, "--publish-token")) << r.out;
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
