// Section 5: CORS.
#include "common.hpp"

using namespace rpd::test;

namespace {

const std::string kOrigin = "https://app.example.com";

::testing::AssertionResult has_cors_for(const http_response& r, const std::string& origin) {
    auto acao = r.header("Access-Control-Allow-Origin");
    if (!acao)
        return ::testing::AssertionFailure() << "no Access-Control-Allow-Origin";
    if (*acao != origin)
        return ::testing::AssertionFailure() << "Access-Control-Allow-Origin is `" << *acao << "`";
    bool vary_origin = false;
    for (auto& [k, v] : r.headers)
        if (iequals(k, "Vary") && contains(v, "Origin"))
            vary_origin = true;
    if (!vary_origin)
        return ::testing::AssertionFailure() << "no `Vary: Origin`";
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult has_no_cors(const http_response& r) {
    for (auto& [k, v] : r.headers)
        if (k.size() >= 12 && iequals(k.substr(0, 12), "Access-Contr"))
            return ::testing::AssertionFailure() << "unexpected " << k << ": " << v;
    return ::testing::AssertionSuccess();
}

class CorsOff : public daemon_test {};

TEST_F(CorsOff, NoCorsHeadersByDefault) {
    cli().set(data_key("c"), R"({"status":"x"})");
    EXPECT_TRUE(has_no_cors(http_get(port(), "/task/c", {{"Origin", kOrigin}})));
    EXPECT_TRUE(has_no_cors(http_get(port(), "/task/none", {{"Origin", kOrigin}})));
    auto pre = http_request(port(), "OPTIONS", "/task/c",
                            {{"Origin", kOrigin}, {"Access-Control-Request-Method", "GET"}});
    EXPECT_TRUE(has_no_cors(pre));
}

class CorsList : public daemon_test {
protected:
    json daemon_config() override {
        return {{"http", {{"cors_origins", {kOrigin, "http://localhost:3000"}}}}};
    }
};

TEST_F(CorsList, MatchingOriginOnEveryResponse) {
    cli().set(data_key("c"), R"({"status":"x"})");
    const header_list h = {{"Origin", kOrigin}};
    auto ok = http_get(port(), "/task/c", h);
    EXPECT_EQ(ok.status, 200);
    EXPECT_TRUE(has_cors_for(ok, kOrigin));
    auto missing = http_get(port(), "/task/none", h);
    EXPECT_EQ(missing.status, 404);
    EXPECT_TRUE(has_cors_for(missing, kOrigin));
    auto badid = http_get(port(), "/task/a.b", h);
    EXPECT_EQ(badid.status, 400);
    EXPECT_TRUE(has_cors_for(badid, kOrigin));
    auto badmode = http_get(port(), "/task/c?x", h);
    EXPECT_EQ(badmode.status, 400);
    EXPECT_TRUE(has_cors_for(badmode, kOrigin));
    auto method = http_request(port(), "PUT", "/task/c", h);
    EXPECT_EQ(method.status, 405);
    EXPECT_TRUE(has_cors_for(method, kOrigin));
    auto head = http_request(port(), "HEAD", "/task/c", h);
    EXPECT_TRUE(has_cors_for(head, kOrigin));
    auto second = http_get(port(), "/task/c", {{"Origin", "http://localhost:3000"}});
    EXPECT_TRUE(has_cors_for(second, "http://localhost:3000"));
}

TEST_F(CorsList, WatchResponsesCarryCors) {
    cli().set(data_key("w"), R"({"status":"running"})");
    watch_client w(port(), "w", {{"Origin", kOrigin}});
    ASSERT_TRUE(w.wait_established());
    EXPECT_TRUE(has_cors_for(w.response(), kOrigin));
    cli().publish(channel("w"), R"({"status":"done","data":1})");
    ASSERT_TRUE(w.finish(3000ms));
    watch_client m(port(), "missing", {{"Origin", kOrigin}});
    ASSERT_TRUE(m.finish(3000ms));
    EXPECT_EQ(m.status(), 404);
    EXPECT_TRUE(has_cors_for(m.response(), kOrigin));
}

TEST_F(CorsList, UnmatchedOriginsGetNothing) {
    cli().set(data_key("c"), R"({"status":"x"})");
    for (const char* o :
         {"https://evil.example.com", "http://app.example.com", "https://app.example.com:443",
          "https://app.example.com/", "HTTPS://APP.EXAMPLE.COM", "null"}) {
        SCOPED_TRACE(o);
        auto r = http_get(port(), "/task/c", {{"Origin", o}});
        EXPECT_EQ(r.status, 200);
        EXPECT_TRUE(has_no_cors(r));
    }
    EXPECT_TRUE(has_no_cors(http_get(port(), "/task/c")));
}

TEST_F(CorsList, PreflightFromMatchingOrigin) {
    for (const char* target : {"/task/c", "/task/c?watch", "/task/c?poll"}) {
        SCOPED_TRACE(target);
        auto r = http_request(port(), "OPTIONS", target,
                              {{"Origin", kOrigin},
                               {"Access-Control-Request-Method", "GET"},
                               {"Access-Control-Request-Headers", "content-type"}});
        EXPECT_EQ(r.status, 204);
        EXPECT_TRUE(r.body.empty());
        EXPECT_TRUE(has_cors_for(r, kOrigin));
        auto methods = r.header("Access-Control-Allow-Methods");
        ASSERT_TRUE(methods);
        EXPECT_EQ(*methods, "GET, HEAD, OPTIONS");
        auto max_age = r.header("Access-Control-Max-Age");
        ASSERT_TRUE(max_age);
        EXPECT_FALSE(max_age->empty());
        EXPECT_TRUE(std::all_of(max_age->begin(), max_age->end(), [](char ch) {
            return ch >= '0' && ch <= '9';
        })) << *max_age;
    }
}

TEST_F(CorsList, PreflightFromUnmatchedOriginHasNoCorsHeaders) {
    auto r = http_request(
        port(), "OPTIONS", "/task/c",
        {{"Origin", "https://evil.example.com"}, {"Access-Control-Request-Method", "GET"}});
    EXPECT_TRUE(has_no_cors(r));
    EXPECT_NE(r.status, 405) << "OPTIONS is an allowed method on /task";
}

TEST_F(CorsList, PreflightConnectionStaysUsable) {
    http_connection c(port());
    ASSERT_TRUE(c.send_request("OPTIONS", "/task/c",
                               {{"Origin", kOrigin}, {"Access-Control-Request-Method", "GET"}}));
    auto r = c.read_response(3000ms);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 204);
    ASSERT_TRUE(c.send_request("GET", "/task/c", {{"Origin", kOrigin}}));
    auto r2 = c.read_response(3000ms);
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->status, 404);
}

class CorsAny : public daemon_test {
protected:
    json daemon_config() override { return {{"http", {{"cors_origins", {"*"}}}}}; }
};

TEST_F(CorsAny, StarMatchesAnyOriginAndEchoesIt) {
    for (const char* o : {"https://a.example", "http://localhost:8080", "null"}) {
        SCOPED_TRACE(o);
        auto r = http_get(port(), "/task/none", {{"Origin", o}});
        EXPECT_EQ(r.status, 404);
        EXPECT_TRUE(has_cors_for(r, o));
        auto pre = http_request(port(), "OPTIONS", "/task/none",
                                {{"Origin", o}, {"Access-Control-Request-Method", "GET"}});
        EXPECT_EQ(pre.status, 204);
        EXPECT_TRUE(has_cors_for(pre, o));
    }
    EXPECT_TRUE(has_no_cors(http_get(port(), "/task/none"))) << "no Origin, no CORS headers";
}

} // namespace
