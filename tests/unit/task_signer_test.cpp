// Signed task ids (docs/protocol.md, "Signed task ids"): the algorithm is
// pinned by published HMAC-SHA256 vectors so that backends written in other
// languages can rely on it.
#include "daemon_routes.hpp"
#include "redis_push/tasks/task_signer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using rpd::tasks::task_signer;

// RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?")
// = 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843.
TEST(TaskSigner, Rfc4231Vector) {
    EXPECT_EQ(task_signer("Jefe", 32).sign("what do ya want for nothing?"),
              "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
    EXPECT_EQ(task_signer("Jefe", 16).sign("what do ya want for nothing?"),
              "W9zBRr9gdU5qBCQmCJV1xw");
}

// The vector docs/protocol.md shows.
TEST(TaskSigner, DocumentedVector) {
    EXPECT_EQ(task_signer("key", 16).sign("The quick brown fox jumps over the lazy dog"),
              "97yD9DBThCSxMpjmqm-xQw");
}

TEST(TaskSigner, SigningTwiceGivesTheSameSignature) {
    const task_signer s("secret", 16);
    const std::string first = s.sign("abc");
    EXPECT_EQ(s.sign("other"), task_signer("secret", 16).sign("other"));
    EXPECT_EQ(s.sign("abc"), first);
    EXPECT_EQ(first.size(), 22u); // 16 bytes in base64url without padding
}

TEST(TaskSigner, Verify) {
    const task_signer s("secret", 16);
    const std::string sig = s.sign("abc");
    EXPECT_TRUE(s.verify("abc", sig));
    EXPECT_FALSE(s.verify("abd", sig));
    EXPECT_FALSE(s.verify("abc", ""));
    EXPECT_FALSE(s.verify("abc", sig.substr(0, 21)));
    EXPECT_FALSE(s.verify("abc", sig + "A"));
    std::string flipped = sig;
    flipped[21] = flipped[21] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(s.verify("abc", flipped));
    EXPECT_FALSE(task_signer("other", 16).verify("abc", sig));
}

TEST(TaskSigner, SplitAtTheLastDot) {
    auto p = task_signer::split("abc.SIG");
    EXPECT_EQ(p.id, "abc");
    EXPECT_EQ(p.signature, "SIG");
    p = task_signer::split("abc");
    EXPECT_EQ(p.id, "abc");
    EXPECT_EQ(p.signature, "");
    p = task_signer::split("a.b.SIG");
    EXPECT_EQ(p.id, "a.b");
    EXPECT_EQ(p.signature, "SIG");
    p = task_signer::split("abc.");
    EXPECT_EQ(p.id, "abc");
    EXPECT_EQ(p.signature, "");
}

TEST(Base64Url, PaddingIsLeftOut) {
    const unsigned char data[] = {0xfb, 0xff, 0xfe};
    EXPECT_EQ(rpd::tasks::base64url(data, 0), "");
    EXPECT_EQ(rpd::tasks::base64url(data, 1), "-w");
    EXPECT_EQ(rpd::tasks::base64url(data, 2), "-_8");
    EXPECT_EQ(rpd::tasks::base64url(data, 3), "-__-");
}

// ---- the router with signed ids ------------------------------------------------

class SignedRoutes : public ::testing::Test {
protected:
    rpd::tasks::task_id_validator validator{
        std::string(rpd::tasks::task_id_validator::default_pattern), 32};
    task_signer signer{"secret", 16};
    rpd::testing::daemon_routes r{validator, &signer};
    using kind = rpd::testing::route::kind;
    using method = rpd::http::method;

    std::string signed_path(const std::string& id, const std::string& query = "") {
        return "/task/" + id + "." + signer.sign(id) + query;
    }
};

TEST_F(SignedRoutes, GoodSignatureGivesTheBareId) {
    const std::string target = signed_path("abc");
    const auto route = r.resolve(method::get, target);
    EXPECT_EQ(route.type, kind::task_poll);
    EXPECT_EQ(route.id, "abc");
    const std::string watch = signed_path("abc", "?watch");
    EXPECT_EQ(r.resolve(method::get, watch).type, kind::task_watch);
    EXPECT_EQ(r.resolve(method::get, watch).id, "abc");
}

TEST_F(SignedRoutes, MissingOrWrongSignatureIs403) {
    EXPECT_EQ(r.resolve(method::get, "/task/abc").type, kind::invalid_signature);
    EXPECT_EQ(r.resolve(method::get, "/task/abc.").type, kind::invalid_signature);
    EXPECT_EQ(r.resolve(method::get, "/task/abc.AAAAAAAAAAAAAAAAAAAAAA").type,
              kind::invalid_signature);
    // Another task's signature does not open this one.
    const std::string other = "/task/abd." + signer.sign("abc");
    EXPECT_EQ(r.resolve(method::get, other).type, kind::invalid_signature);
}

TEST_F(SignedRoutes, IdRulesApplyToTheBareIdFirst) {
    EXPECT_EQ(r.resolve(method::get, "/task/a-b." + signer.sign("a-b")).type,
              kind::invalid_task_id);
    EXPECT_EQ(r.resolve(method::get, "/task/.x").type, kind::invalid_task_id);
    EXPECT_EQ(r.resolve(method::get, "/task/a/b.x").type, kind::invalid_task_id);
    // Path and method still come first.
    EXPECT_EQ(r.resolve(method::other, "/task/abc").type, kind::method_not_allowed);
    EXPECT_EQ(r.resolve(method::options, "/task/abc").type, kind::task_options);
}

TEST_F(SignedRoutes, ModeIsCheckedAfterTheSignature) {
    EXPECT_EQ(r.resolve(method::get, "/task/abc?bogus").type, kind::invalid_signature);
    EXPECT_EQ(r.resolve(method::get, signed_path("abc", "?bogus")).type, kind::invalid_mode);
}

} // namespace
