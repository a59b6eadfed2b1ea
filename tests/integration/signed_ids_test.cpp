// Signed task ids (docs/protocol.md, "Signed task ids"; issue 4 section 5):
// `/task/<id>.<sig>`, Redis keys and channels use the bare id.
#include "common.hpp"

using namespace rpd::test;

namespace {

constexpr const char* secret = "integration-secret";

class SignedIds : public daemon_test {
protected:
    json daemon_config() override {
        return {{"task", {{"signing_secret", secret}}}, {"watch", {{"keepalive_seconds", 1}}}};
    }
    // The daemon's own signer (--sign), so this test checks the HTTP side;
    // the algorithm itself is pinned by the unit tests' vectors.
    std::string sign(const std::string& id) {
        auto r = run_command({daemon_binary(), "--config", daemon().config_path(), "--sign", id});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        std::string out = r.out;
        while (!out.empty() && out.back() == '\n')
            out.pop_back();
        return out;
    }
};

TEST_F(SignedIds, PollWithAGoodSignatureReadsTheBareKey) {
    cli().set(data_key("abc"), R"({"status":"done","n":1})");
    const std::string signed_id = sign("abc");
    ASSERT_TRUE(signed_id.starts_with("abc.")) << signed_id;
    auto r = http_get(port(), "/task/" + signed_id);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"status":"done","n":1})");
}

TEST_F(SignedIds, MissingWrongOrBorrowedSignatureIs403) {
    cli().set(data_key("abc"), R"({"status":"done"})");
    const std::string good = sign("abc");
    const std::string sig = good.substr(4);
    std::string flipped = sig;
    flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
    const std::vector<std::string> targets = {
        "/task/abc",        "/task/abc.",     "/task/abc." + sig + "x", "/task/abc." + flipped,
        "/task/abd." + sig, "/task/abc?watch"};
    for (const std::string& target : targets) {
        auto r = http_get(port(), target);
        EXPECT_EQ(r.status, 403) << target;
        EXPECT_TRUE(is_error_body(r.body, "Invalid signature")) << target;
        EXPECT_TRUE(is_json_content_type(r)) << target;
    }
    EXPECT_EQ(daemon().metric("redis_push_requests_total").value_or(0) >= 6, true);
}

TEST_F(SignedIds, IdRulesApplyToTheBareId) {
    auto r = http_get(port(), "/task/a-b." + sign("a-b").substr(4));
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(is_error_body(r.body, "Invalid task id"));
}

TEST_F(SignedIds, WatchWithAGoodSignatureUsesTheBareChannel) {
    cli().set(data_key("job"), R"({"status":"running"})");
    watch_client w(port(), sign("job"));
    ASSERT_TRUE(w.wait_established());
    EXPECT_TRUE(wait_until([&] { return cli().numsub(channel("job")) == 1; }, 5000ms));
    cli().publish(channel("job"), R"({"status":"done","data":7})");
    ASSERT_TRUE(w.finish());
    EXPECT_EQ(w.body(), R"({"status":"done","data":7})");
}

TEST_F(SignedIds, ReferenceScriptAgreesWithTheDaemon) {
    const std::string script = std::string(RPD_SOURCE_DIR) + "/scripts/sign-task-id";
    auto r = run_command({script, "order_42"}, 10000ms, {{"RPD_SIGNING_SECRET", secret}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, sign("order_42") + "\n");
}

TEST(SignedIdsConfig, SecretFileAndSignatureBytes) {
    temp_dir dir;
    const std::string secret_file = dir.file("secret");
    write_file(secret_file, std::string(secret) + "\n");
    redis_server redis;
    daemon_process d(
        redis.port(),
        json{{"task", {{"signing_secret_file", secret_file}, {"signature_bytes", 8}}}});
    auto r = run_command({daemon_binary(), "--config", d.config_path(), "--sign", "abc"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string signed_id = r.out.substr(0, r.out.size() - 1);
    EXPECT_EQ(signed_id.size(), 4u + 11u) << signed_id; // 8 bytes: 11 base64url characters
    auto script = run_command({std::string(RPD_SOURCE_DIR) + "/scripts/sign-task-id", "--bytes",
                               "8", "--secret-file", secret_file, "abc"});
    EXPECT_EQ(script.out, r.out);
    auto cli = redis.client();
    cli.set(data_key("abc"), "{}");
    EXPECT_EQ(http_get(d.port(), "/task/" + signed_id).status, 200);
    EXPECT_EQ(http_get(d.port(), "/task/abc").status, 403);
}

TEST(SignedIdsConfig, SignWithoutASecretIsAConfigError) {
    auto r = run_command({daemon_binary(), "--sign", "abc"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(contains(r.err, "signing_secret")) << r.err;
}

} // namespace
