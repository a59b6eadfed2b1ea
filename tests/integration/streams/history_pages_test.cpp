// History pages over HTTP (MODES.md 3 "History pages"; 6 "History
// direction", "Parameters", the gap rule; 5 history config and metrics).
#include <atomic>
#include <thread>

#include "streams/history_common.hpp"

using namespace rpd::test;

namespace {

class HistoryPages : public history_test {};

std::vector<std::string> ids_of(const json& page) {
    return offsets_of(page.value("messages", json::array()));
}

std::vector<std::string> slice(const std::vector<std::string>& v, std::size_t from, std::size_t n) {
    return {v.begin() + static_cast<long>(from),
            v.begin() + static_cast<long>(std::min(v.size(), from + n))};
}

// ------------------------------------------------------------ shape

TEST_F(HistoryPages, AscendingFromTheBeginningByDefault) {
    add("h", {{"title", "one"}, {"body", R"({"n":1})"}});
    add("h", {{"title", "two"}});
    const auto ids = all_ids(cli(), "h");
    http_response raw;
    const auto p = page("h", "", &raw);
    EXPECT_TRUE(is_json_content_type(raw));
    EXPECT_TRUE(has_no_store(raw));
    EXPECT_FALSE(raw.has_header("X-Stream-Gap"));
    ASSERT_TRUE(p.is_object()) << raw.body;
    EXPECT_EQ(p["messages"], json::parse(R"([{"offset":")" + ids[0] +
                                         R"(","title":"one","body":{"n":1}},{"offset":")" + ids[1] +
                                         R"(","title":"two"}])"));
    EXPECT_EQ(p["next"], ids[1]);
    EXPECT_EQ(p["end"], true);
    // Exactly the three members.
    EXPECT_EQ(p.size(), 3u) << raw.body;
}

TEST_F(HistoryPages, AMissingStreamIsAnEmptyLastPage) {
    const auto p = page("nothing-here");
    EXPECT_EQ(p, json::parse(R"({"messages":[],"next":null,"end":true})"));
    EXPECT_EQ(page("nothing-here", "?order=desc"), p);
    EXPECT_EQ(page("nothing-here", "?after=5-5"), p);
}

TEST_F(HistoryPages, PagesWalkAscendingWithNextAndEnd) {
    fill(cli(), "h", 250);
    const auto ids = all_ids(cli(), "h");
    auto p = page("h", "?limit=100");
    EXPECT_EQ(ids_of(p), slice(ids, 0, 100));
    EXPECT_EQ(p["next"], ids[99]);
    EXPECT_EQ(p["end"], false);
    p = page("h", "?limit=100&after=" + p["next"].get<std::string>());
    EXPECT_EQ(ids_of(p), slice(ids, 100, 100));
    EXPECT_EQ(p["end"], false);
    p = page("h", "?limit=100&after=" + p["next"].get<std::string>());
    EXPECT_EQ(ids_of(p), slice(ids, 200, 50));
    EXPECT_EQ(p["next"], ids[249]);
    EXPECT_EQ(p["end"], true);
    // After the last entry: nothing left to examine.
    p = page("h", "?after=" + ids[249]);
    EXPECT_EQ(p, json::parse(R"({"messages":[],"next":null,"end":true})"));
}

TEST_F(HistoryPages, AFullPageThatReachesTheLastEntrySaysEnd) {
    fill(cli(), "h", 200);
    const auto ids = all_ids(cli(), "h");
    const auto p = page("h", "?limit=100&after=" + ids[99]);
    EXPECT_EQ(ids_of(p).size(), 100u);
    EXPECT_EQ(p["next"], ids[199]);
    EXPECT_EQ(p["end"], true);
}

TEST_F(HistoryPages, DefaultLimitIs100AndAfterZeroIsTheBeginning) {
    fill(cli(), "h", 150);
    const auto ids = all_ids(cli(), "h");
    const auto p = page("h", "?after=0");
    EXPECT_EQ(ids_of(p), slice(ids, 0, 100));
    EXPECT_EQ(p["end"], false);
}

TEST_F(HistoryPages, OrderDescReadsNewestFirstFromTheEnd) {
    fill(cli(), "h", 30);
    auto ids = all_ids(cli(), "h");
    std::reverse(ids.begin(), ids.end());
    auto p = page("h", "?order=desc&limit=20");
    EXPECT_EQ(ids_of(p), slice(ids, 0, 20));
    EXPECT_EQ(p["next"], ids[19]);
    EXPECT_EQ(p["end"], false);
    // `next` goes on as `before` (exclusive), still newest first.
    p = page("h", "?limit=20&before=" + p["next"].get<std::string>());
    EXPECT_EQ(ids_of(p), slice(ids, 20, 10));
    EXPECT_EQ(p["next"], ids[29]);
    EXPECT_EQ(p["end"], true);
    // order=desc with before is the same read.
    EXPECT_EQ(page("h", "?order=desc&limit=20&before=" + ids[19]), p);
    p = page("h", "?before=" + ids[29]);
    EXPECT_EQ(p, json::parse(R"({"messages":[],"next":null,"end":true})"));
    EXPECT_EQ(page("h", "?before=0")["end"], true);
}

TEST_F(HistoryPages, BeforeAndAfterTakeShortIds) {
    add("h", {{"a", "1"}}, "5-0");
    add("h", {{"a", "2"}}, "5-1");
    add("h", {{"a", "3"}}, "6-0");
    EXPECT_EQ(ids_of(page("h", "?after=5")), (std::vector<std::string>{"5-1", "6-0"}));
    EXPECT_EQ(ids_of(page("h", "?from=5")), (std::vector<std::string>{"5-1", "6-0"}));
    EXPECT_EQ(ids_of(page("h", "?before=6")), (std::vector<std::string>{"5-1", "5-0"}));
}

TEST_F(HistoryPages, LimitIsClampedToStreamMaxCountAndZeroReadsOne) {
    daemon_.reset();
    daemon_ =
        std::make_unique<daemon_process>(redis().port(), json{{"stream", {{"max_count", 50}}}});
    fill(cli(), "h", 80);
    EXPECT_EQ(ids_of(page("h", "?limit=1000")).size(), 50u);
    EXPECT_EQ(ids_of(page("h", "?limit=0")).size(), 1u);
    EXPECT_EQ(ids_of(page("h")).size(), 50u); // the default (100) is clamped too
}

// ------------------------------------------------------------ filters

TEST_F(HistoryPages, WhereFiltersCompareTheRawStoredString) {
    add("h", {{"kind", "a b"}, {"n", "1"}});
    add("h", {{"kind", "a"}, {"n", "2"}});
    add("h", {{"kind", "a b"}, {"n", "3"}});
    add("h", {{"other", "a b"}});
    const auto ids = all_ids(cli(), "h");
    // Percent-decoded once; the value may hold ':'.
    EXPECT_EQ(ids_of(page("h", "?where=kind%3Aa%20b")), (std::vector<std::string>{ids[0], ids[2]}));
    EXPECT_EQ(ids_of(page("h", "?where=kind:a")), (std::vector<std::string>{ids[1]}));
    // Every filter must hold.
    EXPECT_EQ(ids_of(page("h", "?where=kind:a+b&where=n:3")), (std::vector<std::string>{ids[2]}));
    EXPECT_EQ(ids_of(page("h", "?where=kind:a&where=n:3")), (std::vector<std::string>{}));
    // The raw string, not its JSON meaning: n is stored as "1".
    EXPECT_EQ(ids_of(page("h", "?where=n:1")), (std::vector<std::string>{ids[0]}));
    EXPECT_EQ(ids_of(page("h", "?where=n:1.0")), (std::vector<std::string>{}));
    add("h", {{"t", "x:y"}});
    EXPECT_EQ(ids_of(page("h", "?where=t:x:y")).size(), 1u);
    EXPECT_EQ(ids_of(page("h", "?where=empty:")).size(), 0u);
}

TEST_F(HistoryPages, AFilteredPageStopsAtLimitMatches) {
    fill(cli(), "h", 40, "a");
    fill(cli(), "h", 40, "b");
    fill(cli(), "h", 40, "a");
    const auto ids = all_ids(cli(), "h");
    auto p = page("h", "?where=kind:a&limit=50");
    std::vector<std::string> want = slice(ids, 0, 40);
    auto more = slice(ids, 80, 10);
    want.insert(want.end(), more.begin(), more.end());
    EXPECT_EQ(ids_of(p), want);
    EXPECT_EQ(p["next"], ids[89]);
    EXPECT_EQ(p["end"], false);
    p = page("h", "?where=kind:a&limit=50&after=" + ids[89]);
    EXPECT_EQ(ids_of(p), slice(ids, 90, 30));
    EXPECT_EQ(p["end"], true);
    // Descending with a filter.
    p = page("h", "?order=desc&where=kind:b&limit=5");
    EXPECT_EQ(ids_of(p), (std::vector<std::string>{ids[79], ids[78], ids[77], ids[76], ids[75]}));
}

class HistoryScanBound : public history_test {
    json history_config() override { return {{"history", {{"max_scan", 1000}}}}; }
};

TEST_F(HistoryScanBound, FiltersMatchingNothingScanAtMostMaxScanAndNextMovesOn) {
    fill(cli(), "h", 50000);
    const auto ids = all_ids(cli(), "h");
    const auto before = daemon().metric("redis_push_history_entries_examined_total").value_or(-1);
    auto p = page("h", "?where=kind:nope");
    EXPECT_EQ(p["messages"], json::array());
    EXPECT_EQ(p["next"], ids[999]);
    EXPECT_EQ(p["end"], false);
    const auto after = daemon().metric("redis_push_history_entries_examined_total").value_or(-1);
    EXPECT_EQ(after - before, 1000);
    p = page("h", "?where=kind:nope&after=" + ids[999]);
    EXPECT_EQ(p["next"], ids[1999]);
    p = page("h", "?where=kind:nope&after=" + ids[48999]);
    EXPECT_EQ(p["next"], ids[49999]);
    EXPECT_EQ(p["end"], true);
    // Descending the same way.
    p = page("h", "?where=kind:nope&order=desc");
    EXPECT_EQ(p["next"], ids[49000]);
    EXPECT_EQ(p["end"], false);
}

TEST_F(HistoryScanBound, AMatchFoundLateInTheScanWindowIsReturned) {
    fill(cli(), "h", 999);
    add("h", {{"kind", "needle"}});
    add("h", {{"kind", "needle"}});
    const auto ids = all_ids(cli(), "h");
    auto p = page("h", "?where=kind:needle");
    EXPECT_EQ(ids_of(p), (std::vector<std::string>{ids[999]}));
    EXPECT_EQ(p["next"], ids[999]);
    EXPECT_EQ(p["end"], false);
    p = page("h", "?where=kind:needle&after=" + ids[999]);
    EXPECT_EQ(ids_of(p), (std::vector<std::string>{ids[1000]}));
    EXPECT_EQ(p["end"], true);
}

// ------------------------------------------------------------ gap

TEST_F(HistoryPages, AnAfterThatWasTrimmedAwayCarriesTheGapHeader) {
    for (int i = 1; i <= 10; ++i)
        add("h", {{"n", std::to_string(i)}}, std::to_string(i) + "-1");
    cli().command({"XTRIM", skey("h"), "MAXLEN", "5"});
    http_response raw;
    auto p = page("h", "?after=2-1&limit=2", &raw);
    EXPECT_EQ(raw.header("X-Stream-Gap").value_or("<absent>"), "6-1");
    EXPECT_EQ(ids_of(p), (std::vector<std::string>{"6-1", "7-1"}));
    // Not a gap: after the first kept entry, from 0, descending.
    page("h", "?after=6-1", &raw);
    EXPECT_FALSE(raw.has_header("X-Stream-Gap"));
    page("h", "?after=0", &raw);
    EXPECT_FALSE(raw.has_header("X-Stream-Gap"));
    page("h", "", &raw);
    EXPECT_FALSE(raw.has_header("X-Stream-Gap"));
    page("h", "?before=2-1", &raw);
    EXPECT_FALSE(raw.has_header("X-Stream-Gap"));
    // XDEL: older than max-deleted-entry-id.
    cli().command({"XDEL", skey("h"), "8-1"});
    page("h", "?after=7-0", &raw);
    EXPECT_EQ(raw.header("X-Stream-Gap").value_or("<absent>"), "7-1");
    // With a filter the gap still names the first entry still there.
    page("h", "?after=2-1&where=n:9", &raw);
    EXPECT_EQ(raw.header("X-Stream-Gap").value_or("<absent>"), "6-1");
}

// ------------------------------------------------------------ parameters

TEST_F(HistoryPages, BadParametersAre400InvalidParameter) {
    add("h", {{"a", "1"}});
    for (const std::string q :
         {"?after=x", "?after=$", "?after=-1", "?before=1-", "?before=$", "?limit=-1", "?limit=abc",
          "?limit=1.5", "?order=asc", "?order=", "?where=nocolon", "?where=:v", "?after=1&before=2",
          "?after=1&order=desc", "?after=%zz", "?after=1&from=1", "?from=x"}) {
        const auto r = get("/stream/h/history" + q);
        EXPECT_EQ(r.status, 400) << q << ": " << r.body;
        EXPECT_TRUE(is_error_body(r.body, "Invalid parameter")) << q;
    }
    // Unknown parameters are ignored.
    EXPECT_EQ(get("/stream/h/history?foo=bar").status, 200);
}

TEST_F(HistoryPages, NamesMethodsAndTypes) {
    auto r = get("/stream/bad%20name/history");
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(is_error_body(r.body, "Invalid name"));
    r = post(port(), "/stream/h/history", "{}");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.header("Allow").value_or(""), "GET, HEAD, OPTIONS");
    r = http_request(port(), "HEAD", "/stream/h/history", {});
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body.empty());
    r = get("/stream/h/history/more");
    EXPECT_EQ(r.status, 404);
    cli().set(skey("s"), "a string");
    r = get("/stream/s/history");
    EXPECT_EQ(r.status, 502);
    EXPECT_TRUE(is_error_body(r.body, "Wrong type of Redis key"));
    r = get("/stream/s/history?after=1-1"); // the XINFO fails first
    EXPECT_EQ(r.status, 502);
    EXPECT_TRUE(is_error_body(r.body, "Wrong type of Redis key"));
}

TEST_F(HistoryPages, RedisDownIs503) {
    add("h", {{"a", "1"}});
    redis().stop();
    const auto r = get("/stream/h/history");
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_TRUE(is_error_body(r.body, "Redis unavailable"));
}

TEST_F(HistoryPages, CountedAsModeHistory) {
    add("h", {{"a", "1"}});
    page("h");
    get("/stream/h/history?limit=x");
    const auto m = daemon().metrics();
    EXPECT_EQ(metric_with_labels(m, "redis_push_mode_requests_total",
                                 {"mode=\"history\"", "outcome=\"found\""})
                  .value_or(0),
              1)
        << m;
    EXPECT_EQ(metric_with_labels(m, "redis_push_mode_requests_total",
                                 {"mode=\"history\"", "outcome=\"invalid_parameter\""})
                  .value_or(0),
              1);
    EXPECT_EQ(metric_with_labels(m, "redis_push_messages_delivered_total", {"mode=\"history\""})
                  .value_or(0),
              1);
}

// ------------------------------------------------------------ consistency

TEST_F(HistoryPages, PagesStayConsistentWhileProducersAppend) {
    fill(cli(), "h", 2000);
    std::atomic<bool> stop{false};
    std::thread producer([&, port = redis().port()] {
        redis_client c(port, "producer");
        for (int i = 0; !stop && i < 3000; ++i)
            xadd(c, "h", {{"kind", "live"}, {"i", std::to_string(i)}});
    });
    std::vector<std::string> seen;
    std::string after = "0";
    for (int pages = 0; pages < 1000; ++pages) {
        const auto p = page("h", "?limit=97&after=" + after);
        const auto ids = ids_of(p);
        seen.insert(seen.end(), ids.begin(), ids.end());
        if (p["next"].is_string())
            after = p["next"].get<std::string>();
        if (p["end"] == true)
            break;
    }
    stop = true;
    producer.join();
    // Everything up to the last offset seen, once each, in order.
    auto stored = all_ids(cli(), "h");
    ASSERT_FALSE(seen.empty());
    const auto last = std::find(stored.begin(), stored.end(), seen.back());
    ASSERT_NE(last, stored.end());
    stored.erase(last + 1, stored.end());
    EXPECT_EQ(seen, stored);
}

// ------------------------------------------------------------ switches

class HistoryOff : public history_test {
    json history_config() override { return {{"history", {{"enabled", false}}}}; }
};

TEST_F(HistoryOff, HistoryPathsAre404) {
    add("h", {{"a", "1"}});
    const auto r = get("/stream/h/history");
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(is_error_body(r.body, "Not Found"));
    EXPECT_EQ(get("/stream/h?after=0&timeout=0").status, 200);
}

class HistoryWithoutStreams : public history_test {
    json history_config() override { return {{"stream", {{"enabled", false}}}}; }
};

TEST_F(HistoryWithoutStreams, HistoryPagesStillAnswerAndTheStreamPathsAre404) {
    add("h", {{"a", "1"}});
    EXPECT_EQ(ids_of(page("h")).size(), 1u);
    EXPECT_EQ(get("/stream/h?after=0&timeout=0").status, 404);
    EXPECT_EQ(get("/stream/h/ack").status, 404);
}

class HistorySigned : public history_test {
    json history_config() override { return {{"task", {{"signing_secret", "s3cret"}}}}; }
};

TEST_F(HistorySigned, TheSegmentCarriesTheStreamSignature) {
    add("h", {{"a", "1"}});
    EXPECT_EQ(get("/stream/h/history").status, 403);
    EXPECT_TRUE(is_error_body(get("/stream/h.wrong/history").body, "Invalid signature"));
    EXPECT_EQ(ids_of(page(signed_stream("s3cret", "h"))).size(), 1u);
}

} // namespace
