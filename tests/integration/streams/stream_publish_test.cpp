// Publishing over HTTP (MODES.md 3 "Publish"; 6 "Publishing switched off",
// parameters): `POST /stream/<name>` with a JSON object: XADD with each
// member a field (strings as they are, other values JSON-encoded), MAXLEN ~
// stream.maxlen (?maxlen lowers it), 201 {"offset":"<id>"}; 405 when
// switched off; bearer token with a signing secret; 400 Invalid message.
#include "streams/stream_common.hpp"

using namespace rpd::test;

namespace {

// XRANGE <key> - + as [{id, {field: value}}].
std::vector<std::pair<std::string, std::map<std::string, std::string>>>
xrange_all(redis_client& c, const std::string& name) {
    std::vector<std::pair<std::string, std::map<std::string, std::string>>> out;
    auto v = c.command({"XRANGE", skey(name), "-", "+"});
    for (auto& e : v.elements) {
        std::map<std::string, std::string> f;
        for (std::size_t i = 0; i + 1 < e.elements[1].elements.size(); i += 2)
            f[e.elements[1].elements[i].str] = e.elements[1].elements[i + 1].str;
        out.emplace_back(e.elements[0].str, std::move(f));
    }
    return out;
}

const header_list kJson = {{"Content-Type", "application/json"}};

class StreamPublishOff : public daemon_test {}; // stream.allow_publish defaults to false

TEST_F(StreamPublishOff, PostIs405WithAllowWhenSwitchedOff) {
    auto r = post(port(), "/stream/news", R"({"a":1})", kJson);
    EXPECT_EQ(r.status, 405) << r.body;
    EXPECT_EQ(r.header("Allow").value_or("<absent>"), "GET, HEAD, OPTIONS");
    EXPECT_TRUE(is_error_body(r.body, "Method Not Allowed"));
    EXPECT_EQ(cli().command({"EXISTS", skey("news")}).integer, 0) << "nothing written";
}

class StreamPublish : public stream_test {};

TEST_F(StreamPublish, PublishIs201WithTheOffsetAndFieldsAsSpecified) {
    auto r = post(
        port(), "/stream/pub",
        R"({"s":"text","n":5,"f":1.5,"o":{"k":[1,"x"]},"b":true,"z":null,"q":"{\"j\":1}"})", kJson);
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_TRUE(is_json_content_type(r));
    const json j = parse_or_null(r.body);
    ASSERT_TRUE(j.is_object() && j.size() == 1 && j.contains("offset") && j["offset"].is_string())
        << r.body;
    const auto entries = xrange_all(cli(), "pub");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].first, j["offset"].get<std::string>());
    const auto& f = entries[0].second;
    EXPECT_EQ(f.at("s"), "text") << "strings as they are";
    EXPECT_EQ(f.at("q"), R"({"j":1})") << "a string holding JSON is still stored as it is";
    EXPECT_EQ(parse_or_null(f.at("n")), 5);
    EXPECT_EQ(parse_or_null(f.at("f")), 1.5);
    EXPECT_EQ(parse_or_null(f.at("o")), (json{{"k", {1, "x"}}}));
    EXPECT_EQ(f.at("b"), "true");
    EXPECT_EQ(f.at("z"), "null");
    EXPECT_EQ(f.size(), 7u);

    // And read back as a message.
    auto g = get("/stream/pub?after=0&timeout=0");
    const json m = parse_or_null(g.body);
    ASSERT_TRUE(m.is_array() && m.size() == 1) << g.body;
    EXPECT_EQ(m[0]["offset"], j["offset"]);
    EXPECT_EQ(m[0]["s"], "text");
    EXPECT_EQ(m[0]["o"], (json{{"k", {1, "x"}}}));
    EXPECT_EQ(m[0]["b"], true);
}

TEST_F(StreamPublish, RedisSeesOneXaddWithMaxlenApproximate) {
    redis_monitor mon(redis().port());
    auto r = post(port(), "/stream/mon", R"({"a":"x"})", kJson);
    ASSERT_EQ(r.status, 201);
    ASSERT_TRUE(mon.wait_for({"\"XADD\"", "\"RA_S_mon\""})) << mon.text();
    const auto xadds = mon.lines_with({"\"XADD\"", "\"RA_S_mon\""});
    EXPECT_EQ(xadds.size(), 1u) << mon.text();
    EXPECT_TRUE(contains(xadds[0], R"("MAXLEN" "~" "10000")"))
        << "default MAXLEN ~ stream.maxlen (10000): " << xadds[0];
    r = post(port(), "/stream/mon?maxlen=7", R"({"a":"x"})", kJson);
    ASSERT_EQ(r.status, 201);
    ASSERT_TRUE(mon.wait_for({"\"XADD\"", "\"RA_S_mon\"", R"("MAXLEN" "~" "7")"}))
        << "?maxlen=7 lowers it for this call:\n"
        << mon.text();
}

TEST_F(StreamPublish, OffsetsIncrease) {
    std::string prev = "0-0";
    for (int i = 0; i < 20; ++i) {
        auto r = post(port(), "/stream/inc", json{{"i", i}}.dump(), kJson);
        ASSERT_EQ(r.status, 201) << r.body;
        const auto off = parse_or_null(r.body).value("offset", std::string("0-0"));
        EXPECT_TRUE(id_less(prev, off)) << prev << " then " << off;
        prev = off;
    }
    EXPECT_EQ(xlen(cli(), "inc"), 20);
}

TEST_F(StreamPublish, NotAJsonObjectIs400InvalidMessage) {
    for (const std::string body :
         {"[1,2]", "\"s\"", "5", "null", "true", "not json", "{\"a\":", "{} x", " "}) {
        auto r = post(port(), "/stream/bad", body, kJson);
        EXPECT_EQ(r.status, 400) << "`" << body << "` -> " << r.body;
        EXPECT_TRUE(is_error_body(r.body, "Invalid message")) << body;
    }
    // No body at all.
    http_connection c(port());
    ASSERT_TRUE(c.send_request("POST", "/stream/bad", {{"Content-Length", "0"}}));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_TRUE(is_error_body(r->body, "Invalid message"));
    EXPECT_EQ(cli().command({"EXISTS", skey("bad")}).integer, 0);
}

TEST_F(StreamPublish, PublishWakesAWaitingLongPoll) {
    stream_poll p(port(), "/stream/wake?timeout=20");
    ASSERT_TRUE(wait_watched("wake"));
    auto r = post(port(), "/stream/wake", R"({"hello":"world"})", kJson);
    ASSERT_EQ(r.status, 201);
    auto w = p.wait(5000ms);
    ASSERT_TRUE(w) << "the waiting long-poll was not answered";
    EXPECT_EQ(parse_or_null(w->body),
              json::array({{{"offset", parse_or_null(r.body)["offset"]}, {"hello", "world"}}}));
}

TEST_F(StreamPublish, BadNameWrongTypeAndBadMaxlen) {
    auto r = post(port(), "/stream/a%20b", R"({"a":1})", kJson);
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(is_error_body(r.body, "Invalid name"));
    cli().set(skey("str"), "x");
    r = post(port(), "/stream/str", R"({"a":1})", kJson);
    EXPECT_EQ(r.status, 502) << r.body;
    EXPECT_TRUE(is_error_body(r.body, "Wrong type of Redis key"));
    for (const std::string q : {"-1", "abc", "1.5", "", "1e3"}) {
        r = post(port(), "/stream/ml?maxlen=" + q, R"({"a":1})", kJson);
        EXPECT_EQ(r.status, 400) << q << " -> " << r.body;
        EXPECT_TRUE(is_error_body(r.body, "Invalid parameter")) << q;
    }
}

// Publishes n messages on one keep-alive connection.
void publish_many(std::uint16_t port, const std::string& target, int n) {
    http_connection c(port);
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(c.send_request("POST", target, kJson, "HTTP/1.1", json{{"i", i}}.dump()));
        auto r = c.read_response();
        ASSERT_TRUE(r) << "no answer to publish #" << i;
        ASSERT_EQ(r->status, 201) << r->body;
    }
}

class StreamPublishMaxlen : public stream_test {
    json extra_config() override { return {{"stream", {{"maxlen", 100}}}}; }
};

TEST_F(StreamPublishMaxlen, StreamMaxlenTrimsApproximately) {
    publish_many(port(), "/stream/trim", 1000);
    const auto n = xlen(cli(), "trim");
    // MAXLEN ~ 100 keeps at least 100 and at most 100 plus one macro node
    // (stream-node-max-entries, 100 by default).
    EXPECT_GE(n, 100);
    EXPECT_LT(n, 300) << "1000 publishes with stream.maxlen 100 left " << n << " entries";
}

TEST_F(StreamPublishMaxlen, QueryMaxlenLowersButNeverRaises) {
    publish_many(port(), "/stream/low?maxlen=10", 1000);
    auto n = xlen(cli(), "low");
    EXPECT_GE(n, 10);
    EXPECT_LT(n, 150) << "?maxlen=10 left " << n;

    publish_many(port(), "/stream/high?maxlen=100000", 1000);
    n = xlen(cli(), "high");
    EXPECT_LT(n, 300) << "?maxlen over stream.maxlen raised it: " << n << " entries";
}

class StreamPublishUntrimmed : public stream_test {
    json extra_config() override { return {{"stream", {{"maxlen", 0}}}}; }
};

TEST_F(StreamPublishUntrimmed, MaxlenZeroIsUntrimmed) {
    publish_many(port(), "/stream/all", 600);
    EXPECT_EQ(xlen(cli(), "all"), 600);
}

TEST_F(StreamPublish, DefaultMaxlenIsTenThousand) {
    // Pre-fill 10,100 entries, then one publish: MAXLEN ~ 10000 trims whole
    // nodes from the head, never below 10000.
    for (int i = 0; i < 10100; ++i)
        xadd(cli(), "dflt", {{"i", std::to_string(i)}});
    ASSERT_EQ(xlen(cli(), "dflt"), 10100);
    auto r = post(port(), "/stream/dflt", R"({"x":1})", kJson);
    ASSERT_EQ(r.status, 201);
    const auto n = xlen(cli(), "dflt");
    EXPECT_GE(n, 10000);
    EXPECT_LT(n, 10101) << "no MAXLEN ~ 10000 by default";
}

constexpr const char* kSecret = "pub-secret";

class StreamPublishSigned : public stream_test {
    json extra_config() override { return {{"task", {{"signing_secret", kSecret}}}}; }
};

TEST_F(StreamPublishSigned, ABearerTokenIsRequired) {
    const auto seg = signed_stream(kSecret, "feed");
    const auto token = publish_token(kSecret, "feed");
    ASSERT_EQ(token.size(), 43u) << "32 bytes base64url without padding";
    std::string flipped = token;
    flipped[3] = flipped[3] == 'A' ? 'B' : 'A';
    const std::vector<header_list> bad = {
        kJson,
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + flipped}},
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token + "="}},
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token.substr(0, 22)}},
        {{"Content-Type", "application/json"},
         {"Authorization", "Bearer " + publish_token(kSecret, "other")}},
        {{"Content-Type", "application/json"},
         {"Authorization", "Bearer " + hmac_b64url(kSecret, "stream:feed")}},
        {{"Content-Type", "application/json"}, {"Authorization", "Basic " + token}},
        {{"Content-Type", "application/json"}, {"Authorization", token}},
    };
    for (std::size_t i = 0; i < bad.size(); ++i) {
        auto r = post(port(), "/stream/" + seg, R"({"a":1})", bad[i]);
        EXPECT_EQ(r.status, 403) << "case " << i << " -> " << r.body;
        EXPECT_TRUE(is_error_body(r.body, "Forbidden")) << "case " << i;
    }
    EXPECT_EQ(cli().command({"EXISTS", skey("feed")}).integer, 0);

    auto r = post(port(), "/stream/" + seg, R"({"a":1})",
                  {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(xlen(cli(), "feed"), 1);

    // The name itself must still be signed.
    r = post(port(), "/stream/feed", R"({"a":1})",
             {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
    EXPECT_EQ(r.status, 403);
    EXPECT_TRUE(is_error_body(r.body, "Invalid signature"));
}

TEST_F(StreamPublishSigned, TheCliPrintsThePublishToken) {
    auto out = run_command(
        {daemon_binary(), "--config", daemon().config_path(), "--publish-token", "feed"});
    if (out.exit_code != 0)
        GTEST_SKIP() << "--publish-token not offered (the spec says it may be): " << out.err;
    std::string s = out.out;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    EXPECT_EQ(s, publish_token(kSecret, "feed"));
}

} // namespace
