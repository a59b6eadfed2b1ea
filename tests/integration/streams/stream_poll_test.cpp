// Stream long-poll (MODES.md 3 "Long-poll", "Gap"; 0 names, timeouts,
// wrong type, Redis down; 6 parameters, stream cursor, gap exactly, names).
//
// `GET /stream/<name>?after=<offset>&count=N[&timeout=S]`: a JSON array of
// messages {"offset":<id>, <field>: <JSON-decoded value or string>}, oldest
// first; waits for the first when none, then 200 []. Every answer carries
// X-Stream-Offset; a trimmed cursor X-Stream-Gap.
#include "streams/stream_common.hpp"

using namespace rpd::test;

namespace {

class StreamPoll : public stream_test {};

::testing::AssertionResult waiting_headers(const http_response& r) {
    if (auto a = has_no_store(r); !a)
        return a;
    if (auto a = has_x_accel_no(r); !a)
        return a;
    return is_json_content_type(r);
}

// ------------------------------------------------------------ reading

TEST_F(StreamPoll, AfterZeroReturnsEveryMessageOldestFirst) {
    const auto a = add("news", {{"title", "one"}});
    const auto b = add("news", {{"title", "two"}});
    const auto c = add("news", {{"title", "three"}});
    auto r = get("/stream/news?after=0");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(waiting_headers(r));
    ASSERT_TRUE(is_message_array(r));
    const json j = json::parse(r.body);
    const json want = json::array({{{"offset", a}, {"title", "one"}},
                                   {{"offset", b}, {"title", "two"}},
                                   {{"offset", c}, {"title", "three"}}});
    EXPECT_EQ(j, want) << r.body;
    EXPECT_EQ(r.header("X-Stream-Offset").value_or("<absent>"), c)
        << "X-Stream-Offset is the offset of the answer's last message";
    EXPECT_FALSE(r.has_header("X-Stream-Gap")) << "after=0 is never a gap";
}

TEST_F(StreamPoll, MessageShapeDecodesJsonValuesElseStrings) {
    const auto id = add("shape", {{"s", "hello"},
                                  {"n", "42"},
                                  {"f", "2.5"},
                                  {"o", R"({"a":[1,2]})"},
                                  {"arr", "[1,\"x\"]"},
                                  {"t", "true"},
                                  {"nul", "null"},
                                  {"q", R"("quoted")"},
                                  {"bad", R"({"a":)"},
                                  {"empty", ""},
                                  {"sp", " 7 "}});
    auto r = get("/stream/shape?after=0");
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = parse_or_null(r.body);
    ASSERT_TRUE(j.is_array() && j.size() == 1) << r.body;
    const json want = {{"offset", id},         {"s", "hello"},      {"n", 42},     {"f", 2.5},
                       {"o", {{"a", {1, 2}}}}, {"arr", {1, "x"}},   {"t", true},   {"nul", nullptr},
                       {"q", "quoted"},        {"bad", R"({"a":)"}, {"empty", ""}, {"sp", 7}};
    // " 7 " is valid JSON (whitespace around a number); accept the string too.
    json got = j[0];
    if (got.contains("sp") && got["sp"] == " 7 ")
        got["sp"] = 7;
    EXPECT_EQ(got, want) << r.body;
}

TEST_F(StreamPoll, AFieldNamedOffsetIsNotDelivered) {
    const auto id = add("off", {{"offset", "forged-1"}, {"x", "1"}});
    auto r = get("/stream/off?after=0");
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = parse_or_null(r.body);
    ASSERT_TRUE(j.is_array() && j.size() == 1) << r.body;
    EXPECT_EQ(j[0], (json{{"offset", id}, {"x", 1}})) << r.body;
    // Not two "offset" members with the first winning in some parsers.
    std::size_t n = 0;
    for (std::size_t p = r.body.find("\"offset\""); p != std::string::npos;
         p = r.body.find("\"offset\"", p + 1))
        ++n;
    EXPECT_EQ(n, 1u) << r.body;
}

TEST_F(StreamPoll, AfterAnIdIsExclusiveAndAcceptsTheMillisecondForm) {
    add("ids", {{"k", "a"}}, "1000-1");
    add("ids", {{"k", "b"}}, "1000-2");
    add("ids", {{"k", "c"}}, "2000-0");
    auto r = get("/stream/ids?after=1000-1");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(offsets_of(parse_or_null(r.body)), (std::vector<std::string>{"1000-2", "2000-0"}));
    EXPECT_EQ(r.header("X-Stream-Offset").value_or(""), "2000-0");

    // <ms> alone is <ms>-0: everything after 1000-0.
    r = get("/stream/ids?after=1000");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(offsets_of(parse_or_null(r.body)),
              (std::vector<std::string>{"1000-1", "1000-2", "2000-0"}));

    r = get("/stream/ids?after=1500-7");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(offsets_of(parse_or_null(r.body)), (std::vector<std::string>{"2000-0"}));
}

TEST_F(StreamPoll, CountDefaultsTo100AndLimitsTheAnswer) {
    std::vector<std::string> ids;
    for (int i = 0; i < 150; ++i)
        ids.push_back(add("many", {{"i", std::to_string(i)}}));
    auto r = get("/stream/many?after=0");
    ASSERT_EQ(r.status, 200);
    auto j = parse_or_null(r.body);
    ASSERT_TRUE(j.is_array()) << r.body;
    EXPECT_EQ(j.size(), 100u) << "count defaults to 100";
    EXPECT_EQ(r.header("X-Stream-Offset").value_or(""), ids[99]);

    r = get("/stream/many?after=0&count=5");
    j = parse_or_null(r.body);
    ASSERT_TRUE(j.is_array()) << r.body;
    EXPECT_EQ(offsets_of(j), std::vector<std::string>(ids.begin(), ids.begin() + 5));
    EXPECT_EQ(r.header("X-Stream-Offset").value_or(""), ids[4]);

    // Continuing from X-Stream-Offset reads the rest, in order.
    r = get("/stream/many?after=" + ids[99] + "&count=1000");
    j = parse_or_null(r.body);
    ASSERT_TRUE(j.is_array()) << r.body;
    EXPECT_EQ(offsets_of(j), std::vector<std::string>(ids.begin() + 100, ids.end()));
}

class StreamPollMaxCount : public stream_test {
    json extra_config() override { return {{"stream", {{"max_count", 20}}}}; }
};

TEST_F(StreamPollMaxCount, CountOverMaxCountIsClamped) {
    for (int i = 0; i < 50; ++i)
        add("clamp", {{"i", std::to_string(i)}});
    auto r = get("/stream/clamp?after=0&count=1000");
    ASSERT_EQ(r.status, 200) << r.body << " (a count over its maximum is clamped, not refused)";
    EXPECT_EQ(parse_or_null(r.body).size(), 20u);
    r = get("/stream/clamp?after=0");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(parse_or_null(r.body).size(), 20u)
        << "the default 100 is still at most stream.max_count";
}

// ------------------------------------------------------------ waiting

TEST_F(StreamPoll, TimeoutAnswers200EmptyArrayWithTheGivenOffset) {
    const auto id = add("quiet", {{"x", "1"}});
    const auto t0 = clock::now();
    auto r = get("/stream/quiet?after=" + id + "&timeout=1", {}, 10000ms);
    const auto waited = clock::now() - t0;
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "[]");
    EXPECT_TRUE(waiting_headers(r));
    EXPECT_EQ(r.header("X-Stream-Offset").value_or("<absent>"), id);
    EXPECT_FALSE(r.has_header("X-Stream-Gap"));
    EXPECT_GE(waited, 900ms) << "?timeout=1 answered before waiting";
}

TEST_F(StreamPoll, TimeoutZeroAnswersAtOnce) {
    const auto id = add("now", {{"x", "1"}});
    const auto t0 = clock::now();
    auto r = get("/stream/now?after=" + id + "&timeout=0", {}, 10000ms);
    EXPECT_LT(clock::now() - t0, 2000ms) << "timeout=0 waited";
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "[]");
    EXPECT_EQ(r.header("X-Stream-Offset").value_or("<absent>"), id);

    // And with data it answers with the data.
    r = get("/stream/now?after=0&timeout=0");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(offsets_of(parse_or_null(r.body)), std::vector<std::string>{id});
}

TEST_F(StreamPoll, DollarStandsForTheLastIdOrZeroZero) {
    // Missing stream: $ (absent or explicit) is 0-0.
    auto r = get("/stream/none?timeout=0");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "[]");
    EXPECT_EQ(r.header("X-Stream-Offset").value_or("<absent>"), "0-0");
    r = get("/stream/none?after=$&timeout=0");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("X-Stream-Offset").value_or("<absent>"), "0-0");
    r = get("/stream/none?after=%24&timeout=0");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("X-Stream-Offset").value_or("<absent>"), "0-0");
    EXPECT_FALSE(r.has_header("X-Stream-Gap"));

    // Existing stream: $ is its last id, and nothing old is delivered.
    add("some", {{"x", "1"}});
    const auto last = add("some", {{"x", "2"}});
    r = get("/stream/some?timeout=0");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "[]") << "absent after = $: only messages newer than the request";
    EXPECT_EQ(r.header("X-Stream-Offset").value_or("<absent>"), last);

    // after=0 on a missing stream: the given offset.
    r = get("/stream/none?after=0&timeout=0");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "[]");
    const auto off = r.header("X-Stream-Offset").value_or("<absent>");
    EXPECT_TRUE(off == "0" || off == "0-0") << off;
}

TEST_F(StreamPoll, AWaitingPollIsAnsweredByAnXadd) {
    const auto first = add("wait", {{"x", "0"}});
    stream_poll p(port(), "/stream/wait?after=" + first + "&timeout=20");
    ASSERT_TRUE(wait_watched("wait")) << "no keyspace subscription for a stream with a waiter";
    const auto t0 = clock::now();
    const auto id = add("wait", {{"x", "1"}});
    auto r = p.wait(5000ms);
    ASSERT_TRUE(r) << "no answer within 5 s of the XADD (timeout was 20 s)";
    EXPECT_LT(clock::now() - t0, 5000ms);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(waiting_headers(*r));
    EXPECT_EQ(parse_or_null(r->body), (json::array({{{"offset", id}, {"x", 1}}})));
    EXPECT_EQ(r->header("X-Stream-Offset").value_or(""), id);
}

TEST_F(StreamPoll, AWaitingPollWithoutAfterGetsOnlyTheNewMessage) {
    add("wait2", {{"x", "old"}});
    stream_poll p(port(), "/stream/wait2?timeout=20");
    ASSERT_TRUE(wait_watched("wait2"));
    const auto id = add("wait2", {{"x", "new"}});
    auto r = p.wait(5000ms);
    ASSERT_TRUE(r) << "no answer within 5 s of the XADD";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(parse_or_null(r->body), (json::array({{{"offset", id}, {"x", "new"}}})));
    EXPECT_EQ(r->header("X-Stream-Offset").value_or(""), id);
}

TEST_F(StreamPoll, AWaitOnAMissingStreamIsAnsweredWhenItIsCreated) {
    stream_poll p(port(), "/stream/later?after=0&timeout=20");
    ASSERT_TRUE(wait_watched("later"));
    const auto id = add("later", {{"x", "1"}});
    auto r = p.wait(5000ms);
    ASSERT_TRUE(r) << "no answer within 5 s of the first XADD";
    EXPECT_EQ(offsets_of(parse_or_null(r->body)), std::vector<std::string>{id});
}

class StreamPollShortTimeouts : public stream_test {
    json extra_config() override {
        return {{"stream", {{"timeout_seconds", 1}, {"max_timeout_seconds", 2}}}};
    }
};

TEST_F(StreamPollShortTimeouts, DefaultTimeoutIsStreamTimeoutSeconds) {
    const auto t0 = clock::now();
    auto r = get("/stream/dflt?after=0", {}, 10000ms);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "[]");
    EXPECT_GE(clock::now() - t0, 900ms);
}

TEST_F(StreamPollShortTimeouts, ATimeoutOverTheMaximumIsClamped) {
    const auto t0 = clock::now();
    auto r = get("/stream/clampt?after=0&timeout=86400", {}, 15000ms);
    EXPECT_EQ(r.status, 200) << r.body << " (over the maximum is clamped, not refused)";
    EXPECT_EQ(r.body, "[]");
    EXPECT_LT(clock::now() - t0, 8000ms) << "timeout not clamped to max_timeout_seconds (2)";
}

// ------------------------------------------------------------ parameters

TEST_F(StreamPoll, MalformedParametersAre400InvalidParameter) {
    add("p", {{"x", "1"}});
    const std::vector<std::string> queries = {
        "after=abc",    "after=1-2-3", "after=-1",   "after=1.5",   "after=1-",
        "after=-5",     "after=1-x",   "after=%20",  "after=",      "after=0x10",
        "count=-1",     "count=abc",   "count=1.0",  "count=%2B5",  "count=0x10",
        "count=",       "count=1e3",   "timeout=-1", "timeout=abc", "timeout=1.5",
        "timeout=%2B1", "timeout=",    "timeout=1s", "count=5x",    "after=18446744073709551616-0"};
    for (const auto& q : queries) {
        auto r = get("/stream/p?" + q + (contains(q, "timeout=") ? "" : "&timeout=0"));
        EXPECT_EQ(r.status, 400) << q << " -> " << r.body;
        EXPECT_TRUE(is_error_body(r.body, "Invalid parameter")) << q;
        EXPECT_TRUE(is_json_content_type(r)) << q;
    }
}

// MODES.md 6: "`order` only `desc`; else 400 Invalid parameter" (stated for
// every parameter list, not only history pages).
TEST_F(StreamPoll, AnOrderOtherThanDescIs400) {
    for (const std::string q : {"order=asc", "order=DESC", "order="}) {
        auto r = get("/stream/p?" + q + "&timeout=0");
        EXPECT_EQ(r.status, 400) << q << " -> " << r.body;
        EXPECT_TRUE(is_error_body(r.body, "Invalid parameter")) << q;
    }
}

TEST_F(StreamPoll, WellFormedParametersAreAccepted) {
    const auto id = add("ok", {{"x", "1"}});
    for (const std::string& q : std::vector<std::string>{
             "after=0&count=0&timeout=0", "after=$&timeout=0", "after=" + id + "&timeout=0",
             "after=1&count=7&timeout=0", "after=0-0&timeout=0", "count=007&after=0&timeout=0"}) {
        auto r = get("/stream/ok?" + q);
        EXPECT_EQ(r.status, 200) << q << " -> " << r.body;
    }
}

// ------------------------------------------------------------ names

TEST_F(StreamPoll, NamesFollowTheNamePattern) {
    const std::string name = "a:b@c.d-e_f/g";
    const auto id = add(name, {{"x", "1"}});
    auto r = get("/stream/a:b@c.d-e_f%2Fg?after=0&timeout=0");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(offsets_of(parse_or_null(r.body)), std::vector<std::string>{id})
        << "the segment is percent-decoded once: key " << skey(name);

    const std::vector<std::string> bad = {
        "a%20b", "a%2520b", "%C3%A9t%C3%A9", std::string(201, 'n'), "a%00b", "a%25"};
    for (const auto& seg : bad) {
        auto b = get("/stream/" + seg + "?after=0&timeout=0");
        EXPECT_EQ(b.status, 400) << seg << " -> " << b.body;
        EXPECT_TRUE(is_error_body(b.body, "Invalid name")) << seg;
    }
    auto longest = get("/stream/" + std::string(200, 'n') + "?after=0&timeout=0");
    EXPECT_EQ(longest.status, 200) << "200 characters is within {1,200}";
}

class StreamPollPattern : public stream_test {
    json extra_config() override { return {{"stream", {{"name_pattern", "^[a-z]{1,5}$"}}}}; }
};

TEST_F(StreamPollPattern, StreamNamePatternIsApplied) {
    EXPECT_EQ(get("/stream/abc?after=0&timeout=0").status, 200);
    for (const std::string seg : {"ABC", "abcdef", "a1"}) {
        auto r = get("/stream/" + seg + "?after=0&timeout=0");
        EXPECT_EQ(r.status, 400) << seg;
        EXPECT_TRUE(is_error_body(r.body, "Invalid name")) << seg;
    }
}

constexpr const char* kSecret = "stream-secret";

class StreamPollSigned : public stream_test {
    json extra_config() override { return {{"task", {{"signing_secret", kSecret}}}}; }
};

TEST_F(StreamPollSigned, ASignedNameReadsTheBareKey) {
    const auto id = add("sig.ned", {{"x", "1"}});
    const auto seg = signed_stream(kSecret, "sig.ned");
    auto r = get("/stream/" + seg + "?after=0&timeout=0");
    EXPECT_EQ(r.status, 200) << seg << " -> " << r.body;
    EXPECT_EQ(offsets_of(parse_or_null(r.body)), std::vector<std::string>{id});
}

TEST_F(StreamPollSigned, TheSegmentIsPercentDecodedBeforeTheSignatureIsSplitOff) {
    const auto id = add("pct", {{"x", "1"}});
    const auto seg = signed_stream(kSecret, "pct");
    const auto encoded = "pct%2E" + seg.substr(4);
    auto r = get("/stream/" + encoded + "?after=0&timeout=0");
    EXPECT_EQ(r.status, 200) << encoded << " -> " << r.body;
    EXPECT_EQ(offsets_of(parse_or_null(r.body)), std::vector<std::string>{id});
}

TEST_F(StreamPollSigned, TheCliSignsStreamNames) {
    auto out = run_command({daemon_binary(), "--config", daemon().config_path(), "--sign-for",
                            "stream", "--sign", "news"});
    EXPECT_EQ(out.exit_code, 0) << out.err;
    std::string s = out.out;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    EXPECT_EQ(s, signed_stream(kSecret, "news"))
        << "--sign-for stream --sign news prints "
           "news.<base64url(HMAC(secret,\"stream:news\")[:16])>";
}

TEST_F(StreamPollSigned, MissingWrongOrForeignSignaturesAre403) {
    add("news", {{"x", "1"}});
    const auto good = signed_stream(kSecret, "news");
    const auto sig = good.substr(5);
    std::string flipped = sig;
    flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
    const std::vector<std::string> segs = {
        "news",
        "news.",
        "news." + flipped,
        "news." + sig + "x",
        "newz." + sig,
        "news." + hmac_b64url(kSecret, "news", 16),       // a task signature
        "news." + hmac_b64url(kSecret, "queue:news", 16), // a queue signature
        "news." + hmac_b64url(kSecret, "mailbox:news", 16),
    };
    for (const auto& seg : segs) {
        auto r = get("/stream/" + seg + "?after=0&timeout=0");
        EXPECT_EQ(r.status, 403) << seg << " -> " << r.body;
        EXPECT_TRUE(is_error_body(r.body, "Invalid signature")) << seg;
    }
}

// ------------------------------------------------------------ errors

TEST_F(StreamPoll, WrongRedisTypeIs502) {
    cli().set(skey("str"), "a string");
    cli().command({"RPUSH", skey("lst"), "x"});
    for (const std::string n : {"str", "lst"}) {
        for (const std::string q : {"?after=0&timeout=0", "?timeout=0", "?after=0&timeout=2"}) {
            auto r = get("/stream/" + n + q);
            EXPECT_EQ(r.status, 502) << n << q << " -> " << r.body;
            EXPECT_TRUE(is_error_body(r.body, "Wrong type of Redis key")) << n << q;
        }
    }
}

TEST_F(StreamPoll, RedisDownIs503) {
    add("down", {{"x", "1"}});
    redis().stop();
    ASSERT_TRUE(wait_until(
        [&] {
            try {
                return get("/stream/down?after=0&timeout=0", {}, 3000ms).status == 503;
            } catch (const std::exception&) {
                return false;
            }
        },
        8000ms, 100ms))
        << "no 503 once Redis is down";
    auto r = get("/stream/down?after=0&timeout=0", {}, 5000ms);
    EXPECT_TRUE(is_error_body(r.body, "Redis unavailable"));
    r = get("/stream/down?timeout=5", {}, 10000ms);
    EXPECT_EQ(r.status, 503) << "a long-poll that cannot start is 503 too";
    EXPECT_TRUE(is_error_body(r.body, "Redis unavailable"));

    stream_sse s(port(), "down", "?after=0");
    ASSERT_TRUE(s.wait_head());
    EXPECT_EQ(s.response().status, 503) << "an event stream that cannot start";
    ASSERT_TRUE(s.conn().read_body(3000ms));
    EXPECT_TRUE(is_error_body(s.body(), "Redis unavailable"));

    r = post(port(), "/stream/down", R"({"a":1})", {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 503) << "publish";
    EXPECT_TRUE(is_error_body(r.body, "Redis unavailable"));
    r = get("/stream/down?group=g&consumer=c&timeout=0");
    EXPECT_EQ(r.status, 503) << "group read";
}

class StreamPollOff : public daemon_test {
    json daemon_config() override { return {{"stream", {{"enabled", false}}}}; }
};

TEST_F(StreamPollOff, SwitchedOffStreamModePathsAre404) {
    EXPECT_EQ(http_get(port(), "/stream/x?after=0&timeout=0").status, 404);
    EXPECT_EQ(http_get(port(), "/stream/x?group=g&consumer=c&timeout=0").status, 404);
    stream_sse s(port(), "x");
    ASSERT_TRUE(s.wait_head());
    EXPECT_EQ(s.response().status, 404) << "SSE included";
}

// ------------------------------------------------------------ gap

TEST_F(StreamPoll, TrimmedCursorCarriesXStreamGap) {
    std::vector<std::string> ids;
    for (int i = 1; i <= 10; ++i)
        ids.push_back(xadd(cli(), "gap", {{"i", std::to_string(i)}}, "*", 5)); // exact MAXLEN 5
    ASSERT_EQ(xlen(cli(), "gap"), 5);
    // ids[0..4] are gone; ids[5] is the first entry left.
    auto r = get("/stream/gap?after=" + ids[1] + "&timeout=0");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("X-Stream-Gap").value_or("<absent>"), ids[5])
        << "X-Stream-Gap is the first available offset";
    EXPECT_EQ(offsets_of(parse_or_null(r.body)),
              std::vector<std::string>(ids.begin() + 5, ids.end()));
    EXPECT_EQ(r.header("X-Stream-Offset").value_or(""), ids[9]);

    r = get("/stream/gap?after=1&timeout=0");
    EXPECT_EQ(r.header("X-Stream-Gap").value_or("<absent>"), ids[5]) << "ms form";

    // Not gaps: from the beginning, from $, from a present entry.
    for (const std::string& q :
         std::vector<std::string>{"after=0", "after=$", "after=" + ids[6], "after=" + ids[5], ""}) {
        r = get("/stream/gap?" + q + "&timeout=0");
        EXPECT_EQ(r.status, 200) << q;
        EXPECT_FALSE(r.has_header("X-Stream-Gap"))
            << q << " -> X-Stream-Gap: " << r.header("X-Stream-Gap").value_or("");
    }
    r = get("/stream/gap?after=0&timeout=0");
    EXPECT_EQ(offsets_of(parse_or_null(r.body)),
              std::vector<std::string>(ids.begin() + 5, ids.end()));
}

TEST_F(StreamPoll, XdelBehindTheCursorIsAGapNamingTheNextEntry) {
    std::vector<std::string> ids;
    for (int i = 1; i <= 5; ++i)
        ids.push_back(add("del", {{"i", std::to_string(i)}}));
    cli().command({"XDEL", skey("del"), ids[2]});
    // after = ids[0] is older than max-deleted-entry-id (ids[2]): a gap whose
    // value is the first offset after `after` still in the stream.
    auto r = get("/stream/del?after=" + ids[0] + "&timeout=0");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("X-Stream-Gap").value_or("<absent>"), ids[1]);
    EXPECT_EQ(offsets_of(parse_or_null(r.body)),
              (std::vector<std::string>{ids[1], ids[3], ids[4]}));
    r = get("/stream/del?after=" + ids[3] + "&timeout=0");
    EXPECT_FALSE(r.has_header("X-Stream-Gap")) << "a cursor past the deleted entry";
}

TEST_F(StreamPoll, AGapIsReportedOnAWaitingPollToo) {
    std::vector<std::string> ids;
    for (int i = 1; i <= 4; ++i)
        ids.push_back(xadd(cli(), "gapw", {{"i", std::to_string(i)}}, "*", 2));
    // ids[0], ids[1] trimmed; ids[2..3] present: answered at once with the gap.
    auto r = get("/stream/gapw?after=" + ids[0], {}, 5000ms);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("X-Stream-Gap").value_or("<absent>"), ids[2]);
    EXPECT_EQ(offsets_of(parse_or_null(r.body)), (std::vector<std::string>{ids[2], ids[3]}));
}

// ------------------------------------------------------------ fan-in

TEST_F(StreamPoll, ManyWaitersShareOneReadPerNotification) {
    const auto base = add("fan", {{"x", "0"}});
    std::vector<std::unique_ptr<stream_poll>> polls;
    for (int i = 0; i < 50; ++i)
        polls.push_back(
            std::make_unique<stream_poll>(port(), "/stream/fan?after=" + base + "&timeout=30"));
    ASSERT_TRUE(wait_watched("fan"));
    wait_reads_settled();
    const long long before = stream_read_calls(cli());
    const auto id = add("fan", {{"x", "1"}});
    for (auto& p : polls) {
        auto r = p->wait(5000ms);
        ASSERT_TRUE(r);
        EXPECT_EQ(offsets_of(parse_or_null(r->body)), std::vector<std::string>{id});
    }
    const long long reads = stream_read_calls(cli()) - before;
    EXPECT_LE(reads, 3) << "50 long-polls waiting on one stream caused " << reads
                        << " stream reads for one XADD (expected one shared read)";
}

} // namespace

namespace {

// ------------------------------------------------------------ metrics (5, 6)

TEST_F(StreamPoll, MetricsCountSubscribersAndDeliveries) {
    const auto first = add("met", {{"x", "0"}});
    stream_poll p(port(), "/stream/met?after=" + first + "&timeout=30");
    stream_sse s(port(), "met", "?after=" + first);
    ASSERT_TRUE(s.wait_stream()) << s.describe();
    EXPECT_TRUE(wait_subscribers(2))
        << "redis_push_stream_subscribers counts SSE streams and waiting long-polls: "
        << stream_subscribers();
    EXPECT_TRUE(wait_until(
        [&] { return daemon().metric("redis_push_sse_connections").value_or(-1) >= 1; }, 3000ms));
    add("met", {{"x", "1"}});
    ASSERT_TRUE(p.wait(5000ms));
    ASSERT_TRUE(s.wait_messages(1)) << s.describe();
    s.close();
    EXPECT_TRUE(wait_until([&] { return stream_subscribers() == 0; }, 5000ms))
        << stream_subscribers();
    const auto text = daemon().metrics();
    EXPECT_GE(metric_with_labels(text, "redis_push_messages_delivered_total", {"mode=\"stream\""})
                  .value_or(0),
              2)
        << "one message to a long-poll and one to an SSE stream";
    EXPECT_TRUE(metric_with_labels(text, "redis_push_mode_requests_total", {"mode=\"stream\""}) ||
                contains(text, "redis_push_mode_requests_total{mode=\"stream\""))
        << "no redis_push_mode_requests_total{mode=\"stream\",...}";
}

} // namespace
