// Mailboxes over HTTP (MODES.md 0, 2; 6 Mailbox waiters, Names, Config):
// GET /mailbox/<identity> drains every queued message as one JSON array
// (non-JSON as JSON strings), waits for the first, 504, ?timeout=, names,
// signatures, wrong type, key_prefix, vanished waiters.
#include "queues/queue_common.hpp"

using namespace rpd::test;

namespace {

class MailboxHttp : public queue_test {};

TEST_F(MailboxHttp, GetDrainsEveryQueuedMessageAsAJsonArrayInOrder) {
    rpush(cli(), mkey("alice"),
          {R"({"a":1})", "plain text", "[1,2]", R"("s")", "42", R"({"nested":{"x":[true,null]}})",
           "{broken"});
    auto r = get("/mailbox/alice");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(is_json_content_type(r));
    EXPECT_TRUE(has_no_store(r));
    EXPECT_TRUE(has_x_accel_no(r));
    const json j = parse_or_null(r.body);
    const json expected =
        json::array({json{{"a", 1}}, "plain text", json::array({1, 2}), "s", 42,
                     json{{"nested", {{"x", json::array({true, nullptr})}}}}, "{broken"});
    EXPECT_EQ(j, expected) << r.body;
    EXPECT_EQ(cli().command({"EXISTS", mkey("alice")}).integer, 0)
        << "the messages were not removed";
}

TEST_F(MailboxHttp, NonJsonMessagesBecomeJsonStringsWithEscapes) {
    const std::string tricky = "line1\nline2\t\"quoted\" \\ back \x01 caf\xc3\xa9";
    rpush(cli(), mkey("esc"), {tricky});
    auto r = get("/mailbox/esc?timeout=0");
    ASSERT_EQ(r.status, 200);
    const json j = parse_or_null(r.body);
    ASSERT_TRUE(j.is_array()) << r.body;
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0], tricky);
}

TEST_F(MailboxHttp, AnEmptyMailboxWaitsForTheFirstMessage) {
    auto p = pending("/mailbox/bob?timeout=10");
    ASSERT_TRUE(wait_key_watched(mkey("bob")));
    rpush(cli(), mkey("bob"), {R"({"n":1})", R"({"n":2})"});
    auto r = p->wait(5000ms);
    ASSERT_TRUE(r) << "not answered after the RPUSH";
    EXPECT_EQ(r->status, 200);
    const json j = parse_or_null(r->body);
    ASSERT_TRUE(j.is_array()) << r->body;
    EXPECT_GE(j.size(), 1u);
    EXPECT_EQ(j[0], (json{{"n", 1}}));
    // Whatever was not in that answer is still queued, in order.
    const auto left = lrange(cli(), mkey("bob"));
    EXPECT_EQ(j.size() + left.size(), 2u);
    if (j.size() == 1) {
        EXPECT_EQ(left, std::vector<std::string>{R"({"n":2})"});
    }
}

TEST_F(MailboxHttp, TimeoutZeroAnswers504AtOnce) {
    const auto t0 = clock::now();
    auto r = get("/mailbox/nobody?timeout=0");
    EXPECT_EQ(r.status, 504);
    EXPECT_TRUE(is_error_body(r.body, "Timed out"));
    EXPECT_TRUE(is_json_content_type(r));
    EXPECT_TRUE(has_no_store(r));
    EXPECT_LT(clock::now() - t0, 700ms);
}

class MailboxHttpShort : public queue_test {
    json extra_config() override {
        return {{"mailbox", {{"timeout_seconds", 1}, {"max_timeout_seconds", 2}}}};
    }
};

TEST_F(MailboxHttpShort, TheDefaultWaitIsMailboxTimeoutSecondsThen504) {
    const auto t0 = clock::now();
    auto r = get("/mailbox/nobody", {}, 10000ms);
    EXPECT_EQ(r.status, 504);
    EXPECT_TRUE(is_error_body(r.body, "Timed out"));
    EXPECT_GE(clock::now() - t0, 900ms);
    EXPECT_LT(clock::now() - t0, 4000ms);
}

TEST_F(MailboxHttpShort, ATimeoutOverTheMaximumIsClamped) {
    const auto t0 = clock::now();
    auto r = get("/mailbox/nobody?timeout=86400", {}, 15000ms);
    EXPECT_EQ(r.status, 504) << r.body;
    EXPECT_LT(clock::now() - t0, 5000ms) << "not clamped to mailbox.max_timeout_seconds (2)";
}

TEST_F(MailboxHttp, MalformedTimeoutsAre400InvalidParameter) {
    rpush(cli(), mkey("p"), {"keep"});
    for (const std::string& q :
         std::vector<std::string>{"timeout=-1", "timeout=abc", "timeout=1.5", "timeout=%2B1",
                                  "timeout=", "timeout=1s"}) {
        auto r = get("/mailbox/p?" + q);
        EXPECT_EQ(r.status, 400) << q << " -> " << r.body;
        EXPECT_TRUE(is_error_body(r.body, "Invalid parameter")) << q;
    }
    EXPECT_EQ(llen(cli(), mkey("p")), 1);
}

// MODES.md 6 "Mailbox waiters": the oldest HTTP waiter gets everything
// queued at that moment; the next waits for the next message.
TEST_F(MailboxHttp, TheOldestWaiterGetsEverythingQueuedAtThatMoment) {
    auto first = pending("/mailbox/carol?timeout=10");
    ASSERT_TRUE(wait_key_watched(mkey("carol")));
    auto second = pending("/mailbox/carol?timeout=10");
    // The second arrives after the first was registered; whether it is
    // registered before the RPUSH does not matter.
    wait_key_watched(mkey("carol"), 2, 1000ms);
    rpush(cli(), mkey("carol"), {"m1", "m2", "m3"});
    auto r1 = first->wait(5000ms);
    ASSERT_TRUE(r1) << "the oldest waiter was not served";
    EXPECT_EQ(parse_or_null(r1->body), json::array({"m1", "m2", "m3"}));
    rpush(cli(), mkey("carol"), {"m4"});
    auto r2 = second->wait(5000ms);
    ASSERT_TRUE(r2);
    EXPECT_EQ(parse_or_null(r2->body), json::array({"m4"}));
}

TEST_F(MailboxHttp, AVanishedWaiterLosesNothing) {
    auto gone = pending("/mailbox/dave?timeout=10");
    ASSERT_TRUE(wait_key_watched(mkey("dave")));
    close_with_reset(gone->conn());
    rpush(cli(), mkey("dave"), {"x", "y"});
    auto r = get("/mailbox/dave?timeout=5");
    ASSERT_EQ(r.status, 200) << r.body;
    json got = parse_or_null(r.body);
    if (got.is_array() && got.size() == 1) {
        // Drained in two answers is fine; nothing lost, order kept.
        auto r2 = get("/mailbox/dave?timeout=5");
        for (auto& m : parse_or_null(r2.body))
            got.push_back(m);
    }
    EXPECT_EQ(got, json::array({"x", "y"}));
}

TEST_F(MailboxHttp, AClosedWaiterLosesNothing) {
    auto gone = pending("/mailbox/erin?timeout=10");
    ASSERT_TRUE(wait_key_watched(mkey("erin")));
    gone->conn().close();
    rpush(cli(), mkey("erin"), {"x"});
    auto r = get("/mailbox/erin?timeout=5");
    ASSERT_EQ(r.status, 200) << "the message was written to a closed client: " << r.body;
    EXPECT_EQ(parse_or_null(r.body), json::array({"x"}));
}

TEST_F(MailboxHttp, NamesFollowTheNamePattern) {
    rpush(cli(), mkey("a:b@c.d-e_f/g"), {"n"});
    auto r = get("/mailbox/a:b@c.d-e_f%2Fg?timeout=0");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(parse_or_null(r.body), json::array({"n"}));
    EXPECT_EQ(get("/mailbox/" + std::string(200, 'm') + "?timeout=0").status, 504);
    for (const std::string& seg :
         std::vector<std::string>{"a%20b", "%C3%A9", "a%00b", "a!b", std::string(201, 'm')}) {
        auto b = get("/mailbox/" + seg + "?timeout=0");
        EXPECT_EQ(b.status, 400) << seg;
        EXPECT_TRUE(is_error_body(b.body, "Invalid name")) << seg;
    }
}

class MailboxHttpPattern : public queue_test {
    json extra_config() override { return {{"mailbox", {{"name_pattern", "^u[0-9]+$"}}}}; }
};

TEST_F(MailboxHttpPattern, MailboxNamePatternIsApplied) {
    EXPECT_EQ(get("/mailbox/u42?timeout=0").status, 504);
    auto r = get("/mailbox/alice?timeout=0");
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(is_error_body(r.body, "Invalid name"));
    EXPECT_EQ(get("/queue/alice?timeout=0").status, 504) << "queue.name_pattern is separate";
}

TEST_F(MailboxHttp, AKeyOfTheWrongTypeIs502) {
    cli().set(mkey("str"), "s");
    cli().command({"SADD", mkey("set"), "s"});
    for (const std::string& n : std::vector<std::string>{"str", "set"}) {
        for (const std::string& q : std::vector<std::string>{"?timeout=0", "?timeout=1"}) {
            auto r = get("/mailbox/" + n + q);
            EXPECT_EQ(r.status, 502) << n << q << " -> " << r.body;
            EXPECT_TRUE(is_error_body(r.body, "Wrong type of Redis key")) << n;
        }
    }
}

TEST_F(MailboxHttp, MailboxAndQueueKeysAreSeparate) {
    rpush(cli(), qkey("same"), {"queue-msg"});
    rpush(cli(), mkey("same"), {"mailbox-msg"});
    EXPECT_EQ(parse_or_null(get("/mailbox/same?timeout=0").body), json::array({"mailbox-msg"}));
    EXPECT_EQ(get("/queue/same?timeout=0").body, "queue-msg");
}

class MailboxKeyPrefix : public queue_test {
    json extra_config() override { return {{"mailbox", {{"key_prefix", "inbox:"}}}}; }
};

TEST_F(MailboxKeyPrefix, KeyPrefixNamesTheList) {
    rpush(cli(), "inbox:frank", {"f"});
    rpush(cli(), mkey("frank"), {"not-this"});
    auto r = get("/mailbox/frank?timeout=0");
    EXPECT_EQ(parse_or_null(r.body), json::array({"f"})) << r.body;
    EXPECT_EQ(llen(cli(), mkey("frank")), 1);
}

class MailboxRedisPrefix : public queue_test {
    json extra_config() override { return {{"redis", {{"prefix", "XY_"}}}}; }
};

TEST_F(MailboxRedisPrefix, TheDefaultKeyPrefixFollowsRedisPrefix) {
    rpush(cli(), "XY_M_gina", {"g"});
    rpush(cli(), "XY_Q_gina", {"q"});
    EXPECT_EQ(parse_or_null(get("/mailbox/gina?timeout=0").body), json::array({"g"}));
    EXPECT_EQ(get("/queue/gina?timeout=0").body, "q") << "queue key redis.prefix + Q_";
}

constexpr const char* kSecret = "mailbox-secret";

class MailboxHttpSigned : public queue_test {
    json extra_config() override { return {{"task", {{"signing_secret", kSecret}}}}; }
};

TEST_F(MailboxHttpSigned, OnlyAMailboxSignatureOpensAMailbox) {
    rpush(cli(), mkey("hal"), {"secret"});
    const auto good = signed_mailbox(kSecret, "hal");
    const std::vector<std::string> bad = {
        "hal",
        "hal.",
        "hal." + hmac_b64url(kSecret, "queue:hal", 16), // a queue signature never opens a mailbox
        "hal." + hmac_b64url(kSecret, "hal", 16),       // a task signature
        "hal." + hmac_b64url(kSecret, "stream:hal", 16),
        "hbl." + good.substr(4),
        good + "x"};
    for (const auto& seg : bad) {
        auto r = get("/mailbox/" + seg + "?timeout=0");
        EXPECT_EQ(r.status, 403) << seg << " -> " << r.body;
        EXPECT_TRUE(is_error_body(r.body, "Invalid signature")) << seg;
    }
    EXPECT_EQ(llen(cli(), mkey("hal")), 1);
    auto r = get("/mailbox/" + good + "?timeout=0");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(parse_or_null(r.body), json::array({"secret"}));
    // And a mailbox signature never opens the queue of the same name.
    rpush(cli(), qkey("hal"), {"q"});
    r = get("/queue/" + good + "?timeout=0");
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(llen(cli(), qkey("hal")), 1);
}

TEST_F(MailboxHttpSigned, TheCliSignsMailboxIdentities) {
    auto out = run_command({daemon_binary(), "--config", daemon().config_path(), "--sign-for",
                            "mailbox", "--sign", "hal"});
    EXPECT_EQ(out.exit_code, 0) << out.err;
    std::string s = out.out;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    EXPECT_EQ(s, signed_mailbox(kSecret, "hal"));
}

TEST_F(MailboxHttp, PostAndOtherMethodsDoNotPublishToAMailbox) {
    auto r = post(port(), "/mailbox/ivy", "m");
    EXPECT_GE(r.status, 400) << r.body;
    EXPECT_LT(r.status, 500) << r.body;
    EXPECT_EQ(cli().command({"EXISTS", mkey("ivy")}).integer, 0);
}

} // namespace
