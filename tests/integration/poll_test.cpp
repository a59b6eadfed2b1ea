// Section 2: poll mode, task ids, methods, paths, bodies and headers.
#include "common.hpp"

using namespace rpd::test;

namespace {

class Poll : public daemon_test {};

TEST_F(Poll, FoundReturnsStoredValueByteForByte) {
    // Odd spacing, key order, number formats and unicode: must not be re-serialised.
    const std::string value =
        "{ \"status\" : \"running\",\t\"n\": 1.50e0, \"z\":1, \"a\":\"\xc3\xa9\\u00e9\" }\n";
    cli().set(data_key("abc123"), value);
    auto r = http_get(port(), "/task/abc123");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, value);
    EXPECT_TRUE(is_json_content_type(r));
    EXPECT_TRUE(has_no_store(r));
}

TEST_F(Poll, NeverParsesTheStoredValue) {
    const std::string value = "this is {not json";
    cli().set(data_key("raw"), value);
    auto r = http_get(port(), "/task/raw");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, value);
}

TEST_F(Poll, DoneValueIsReturnedToo) {
    const std::string value = R"({"status":"done","result":[1,2,3]})";
    cli().set(data_key("d"), value);
    auto r = http_get(port(), "/task/d");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, value);
}

TEST_F(Poll, MissingIs404WithExactBody) {
    auto r = http_get(port(), "/task/nosuchtask");
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(is_error_body(r.body, "Not Found"));
    EXPECT_TRUE(is_json_content_type(r));
    EXPECT_TRUE(has_no_store(r));
}

TEST_F(Poll, ExplicitPollQuery) {
    cli().set(data_key("p1"), R"({"status":"x"})");
    auto r = http_get(port(), "/task/p1?poll");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"status":"x"})");
    auto m = http_get(port(), "/task/p2?poll");
    EXPECT_EQ(m.status, 404);
    EXPECT_TRUE(is_error_body(m.body, "Not Found"));
}

TEST_F(Poll, EmptyQueryIsPoll) {
    cli().set(data_key("e1"), R"({"status":"x"})");
    auto r = http_get(port(), "/task/e1?");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"status":"x"})");
}

TEST_F(Poll, EmptyQueryOnMissingTaskIs404) {
    auto r = http_get(port(), "/task/e2?");
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(is_error_body(r.body, "Not Found"));
}

TEST_F(Poll, InvalidModeIs400) {
    cli().set(data_key("m1"), R"({"status":"x"})");
    for (const char* q : {"?foo", "?polling", "?Watch", "?POLL", "?watchx", "?poll&watch"}) {
        SCOPED_TRACE(q);
        auto r = http_get(port(), std::string("/task/m1") + q);
        EXPECT_EQ(r.status, 400);
        EXPECT_TRUE(is_error_body(r.body, "Invalid mode"));
        EXPECT_TRUE(is_json_content_type(r));
        EXPECT_TRUE(has_no_store(r));
    }
}

TEST_F(Poll, InvalidIdsAre400) {
    // The same ids exist (decoded) in Redis where that is possible, so a daemon
    // that decodes or normalises would answer 200 instead.
    cli().set(data_key("abc"), R"({"status":"x"})");
    cli().set(data_key("a"), R"({"status":"x"})");
    cli().set(data_key("a_b"), R"({"status":"x"})");
    const std::string too_long(33, 'x');
    cli().set(data_key(too_long), R"({"status":"x"})");
    for (std::string target :
         {"/task/a%62c", "/task/%61", "/task/a%5Fb", "/task/.", "/task/..", "/task/a/b", "/task/a/",
          "/task/", "/task/a-b", "/task/a.b", "/task/a%2Fb", "/task/a b"}) {
        if (target == "/task/a b")
            target = "/task/a%20b";
        SCOPED_TRACE(target);
        auto r = http_get(port(), target);
        EXPECT_EQ(r.status, 400);
        EXPECT_TRUE(is_error_body(r.body, "Invalid task id"));
        EXPECT_TRUE(is_json_content_type(r));
    }
    {
        auto r = http_get(port(), "/task/" + too_long);
        EXPECT_EQ(r.status, 400) << "33-byte id";
        EXPECT_TRUE(is_error_body(r.body, "Invalid task id"));
    }
    {
        auto r = http_get(port(), "/task/" + too_long + "?watch");
        EXPECT_EQ(r.status, 400) << "33-byte id, watch";
        EXPECT_TRUE(is_error_body(r.body, "Invalid task id"));
    }
}

TEST_F(Poll, IdOfMaxLengthIsValid) {
    const std::string id(32, 'y');
    auto r = http_get(port(), "/task/" + id);
    EXPECT_EQ(r.status, 404);
    cli().set(data_key(id), R"({"status":"x"})");
    auto r2 = http_get(port(), "/task/" + id);
    EXPECT_EQ(r2.status, 200);
}

TEST_F(Poll, InvalidIdWithWatchIs400) {
    auto r = http_get(port(), "/task/a-b?watch", {}, 3000ms);
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(is_error_body(r.body, "Invalid task id"));
}

TEST_F(Poll, TaskAloneIsUnknownPath) {
    for (const char* target :
         {"/task", "/task?poll", "/", "/tasks/abc", "/taskabc", "/foo/bar", "/TASK/abc"}) {
        SCOPED_TRACE(target);
        auto r = http_get(port(), target);
        EXPECT_EQ(r.status, 404);
        EXPECT_TRUE(is_error_body(r.body, "Not Found"));
    }
}

TEST_F(Poll, HeadIsAPollWithoutBody) {
    const std::string value = R"({"status":"running","n":12345})";
    cli().set(data_key("h1"), value);
    http_connection c(port());
    ASSERT_TRUE(c.send_request("HEAD", "/task/h1"));
    auto r = c.read_response(5000ms, /*head_request=*/true);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->body.empty());
    EXPECT_TRUE(is_json_content_type(*r));
    if (auto cl = r->header("Content-Length")) {
        EXPECT_EQ(*cl, std::to_string(value.size()));
    }
    // No body bytes were sent: the next response on the connection parses cleanly.
    ASSERT_TRUE(c.send_request("HEAD", "/task/h_missing"));
    auto r2 = c.read_response(5000ms, true);
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->status, 404);
    ASSERT_TRUE(c.send_request("GET", "/task/h1"));
    auto r3 = c.read_response(5000ms);
    ASSERT_TRUE(r3);
    EXPECT_EQ(r3->status, 200);
    EXPECT_EQ(r3->body, value);
}

TEST_F(Poll, HeadWithWatchNeverWaits) {
    cli().set(data_key("h2"), R"({"status":"running"})");
    auto start = clock::now();
    auto r = http_request(port(), "HEAD", "/task/h2?watch", {}, 3000ms);
    EXPECT_LT(clock::now() - start, 2000ms);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body.empty());
    auto m = http_request(port(), "HEAD", "/task/h3?watch", {}, 3000ms);
    EXPECT_EQ(m.status, 404);
    auto bad = http_request(port(), "HEAD", "/task/h2?bogus", {}, 3000ms);
    EXPECT_EQ(bad.status, 400);
    auto badid = http_request(port(), "HEAD", "/task/a.b", {}, 3000ms);
    EXPECT_EQ(badid.status, 400);
}

TEST_F(Poll, OtherMethodsAre405WithAllow) {
    cli().set(data_key("m"), R"({"status":"x"})");
    for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "TRACE"}) {
        SCOPED_TRACE(method);
        for (const char* target : {"/task/m", "/task/m?watch", "/task/m?poll"}) {
            SCOPED_TRACE(target);
            auto r = http_request(port(), method, target);
            EXPECT_EQ(r.status, 405);
            EXPECT_TRUE(is_error_body(r.body, "Method Not Allowed"));
            auto allow = r.header("Allow");
            ASSERT_TRUE(allow) << "no Allow header";
            EXPECT_TRUE(contains(*allow, "GET")) << *allow;
            EXPECT_TRUE(contains(*allow, "HEAD")) << *allow;
            EXPECT_TRUE(contains(*allow, "OPTIONS")) << *allow;
            EXPECT_FALSE(contains(*allow, "POST")) << *allow;
            EXPECT_TRUE(is_json_content_type(r));
        }
    }
}

TEST_F(Poll, PostWithBodyIs405AndConnectionStaysUsable) {
    http_connection c(port());
    ASSERT_TRUE(c.send_request("POST", "/task/m", {{"Content-Type", "application/json"}},
                               "HTTP/1.1", R"({"status":"done"})"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405);
    // Either the connection is closed, or the next request is answered correctly.
    if (!c.peer_closed() && c.send_request("GET", "/task/m")) {
        auto r2 = c.read_response(3000ms);
        if (r2) {
            EXPECT_EQ(r2->status, 404);
        }
    }
}

// ------------------------------------------------------------ configurable ids

class CustomIdRules : public daemon_test {
protected:
    json daemon_config() override {
        return {{"task", {{"id_pattern", "^[a-z-]+$"}, {"max_id_length", 5}}}};
    }
};

TEST_F(CustomIdRules, PatternAndLengthAreConfigurable) {
    cli().set(data_key("ab-c"), R"({"status":"x"})");
    auto ok = http_get(port(), "/task/ab-c");
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(http_get(port(), "/task/abcde").status, 404);
    for (const char* bad : {"/task/abcdef", "/task/AB", "/task/a_b", "/task/a1"}) {
        SCOPED_TRACE(bad);
        auto r = http_get(port(), bad);
        EXPECT_EQ(r.status, 400);
        EXPECT_TRUE(is_error_body(r.body, "Invalid task id"));
    }
}

class PatternDoesNotMatchWholeIdByItself : public daemon_test {
protected:
    json daemon_config() override {
        return {{"task", {{"id_pattern", "^[0-9]+$"}, {"max_id_length", 1024}}}};
    }
};

TEST_F(PatternDoesNotMatchWholeIdByItself, LongIdsUpToTheConfiguredMaximum) {
    std::string id(200, '7');
    cli().set(data_key(id), R"({"status":"x"})");
    EXPECT_EQ(http_get(port(), "/task/" + id).status, 200);
    EXPECT_EQ(http_get(port(), "/task/12a").status, 400);
}

// ------------------------------------------------------------ always_200

class Always200 : public daemon_test {
protected:
    json daemon_config() override { return {{"http", {{"always_200", true}}}}; }
};

TEST_F(Always200, EveryTaskAnswerIs200WithTheSameBodies) {
    cli().set(data_key("ok"), R"({"status":"x"})");
    auto found = http_get(port(), "/task/ok");
    EXPECT_EQ(found.status, 200);
    EXPECT_EQ(found.body, R"({"status":"x"})");

    auto missing = http_get(port(), "/task/missing");
    EXPECT_EQ(missing.status, 200);
    EXPECT_TRUE(is_error_body(missing.body, "Not Found"));

    auto badid = http_get(port(), "/task/a.b");
    EXPECT_EQ(badid.status, 200);
    EXPECT_TRUE(is_error_body(badid.body, "Invalid task id"));

    auto badmode = http_get(port(), "/task/ok?nope");
    EXPECT_EQ(badmode.status, 200);
    EXPECT_TRUE(is_error_body(badmode.body, "Invalid mode"));

    auto method = http_request(port(), "DELETE", "/task/ok");
    EXPECT_EQ(method.status, 200);
    EXPECT_TRUE(is_error_body(method.body, "Method Not Allowed"));

    auto watch_missing = http_get(port(), "/task/missing?watch");
    EXPECT_EQ(watch_missing.status, 200);
    EXPECT_TRUE(is_error_body(watch_missing.body, "Not Found"));

    cli().set(data_key("bad"), "{oops");
    auto watch_bad = http_get(port(), "/task/bad?watch");
    EXPECT_EQ(watch_bad.status, 200);
    EXPECT_TRUE(is_error_body(watch_bad.body, "Invalid JSON in task data"));
}

TEST_F(Always200, RedisDownIs200ButHealthzKeepsItsRealStatus) {
    redis().kill();
    ASSERT_TRUE(wait_until([&] { return http_get(port(), "/healthz").status == 503; }, 10000ms));
    auto r = http_get(port(), "/task/any", {}, 3000ms);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(is_error_body(r.body, "Redis unavailable"));
}

} // namespace
