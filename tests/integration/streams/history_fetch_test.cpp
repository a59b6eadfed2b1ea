// The flow-controlled history fetch over WebSocket (MODES.md 3
// "Flow-controlled fetch"; 4, the fetch row; 6 "Fetch"; 5 metrics).
#include "streams/history_common.hpp"

using namespace rpd::test;

namespace {

class HistoryFetch : public history_test {
protected:
    json history_config() override { return {{"history", {{"accept_timeout_seconds", 1}}}}; }

    // The next frame for fetch `id` (any type), others kept in the log.
    std::optional<json> next_for(ws_client& ws, const json& id,
                                 std::chrono::milliseconds timeout = 5000ms) {
        return ws.read_until(
            [&](const json& f) { return f.is_object() && f.value("id", json()) == id; }, timeout);
    }
    // Accepts every row of fetch `id` until its last frame; the rows' offsets.
    std::vector<std::string> drain(ws_client& ws, const json& id, json* last = nullptr) {
        std::vector<std::string> out;
        while (true) {
            const auto f = next_for(ws, id);
            if (!f || !is_frame(*f, "row")) {
                if (last != nullptr)
                    *last = f.value_or(json());
                return out;
            }
            out.push_back((*f)["message"].value("offset", ""));
            ws.send_json({{"type", "accepted"}, {"id", id}});
        }
    }
    std::optional<json> fetch(ws_client& ws, json req) {
        req["type"] = "fetch";
        if (!ws.send_json(req))
            return std::nullopt;
        return next_for(ws, req["id"]);
    }
};

TEST_F(HistoryFetch, RowsOneAtATimeThenEndAfterTheLastAcceptance) {
    add("h", {{"title", "one"}, {"n", "1"}});
    add("h", {{"title", "two"}});
    const auto ids = all_ids(cli(), "h");
    auto ws = connect_ws();
    auto f = fetch(*ws, {{"stream", "h"}, {"id", 7}});
    ASSERT_TRUE(f) << ws->describe();
    EXPECT_EQ(*f, json::parse(R"({"type":"row","id":7,"message":{"offset":")" + ids[0] +
                              R"(","title":"one","n":1}})"));
    // Nothing more until the row is accepted.
    EXPECT_FALSE(ws->read(300ms)) << ws->describe();
    ws->send_json({{"type", "accepted"}, {"id", 7}});
    f = next_for(*ws, 7);
    ASSERT_TRUE(f);
    EXPECT_EQ((*f)["message"]["offset"], ids[1]);
    EXPECT_FALSE(ws->read(300ms));
    ws->send_json({{"type", "accepted"}, {"id", 7}});
    f = next_for(*ws, 7);
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, json::parse(R"({"type":"end","id":7})"));
    EXPECT_TRUE(wait_fetches_active(0));
    const auto m = daemon().metrics();
    EXPECT_EQ(metric_with_labels(m, "redis_push_history_fetches_total", {"outcome=\"end\""}), 1);
    EXPECT_EQ(metric_with_labels(m, "redis_push_messages_delivered_total", {"mode=\"history\""}),
              2);
}

TEST_F(HistoryFetch, WalksALongStreamInBatchesWithAfterAndFrom) {
    fill(cli(), "h", 1000);
    const auto ids = all_ids(cli(), "h");
    auto ws = connect_ws();
    ws->send_json({{"type", "fetch"}, {"stream", "h"}, {"id", "a"}, {"after", ids[9]}});
    json last;
    auto got = drain(*ws, "a", &last);
    EXPECT_EQ(got, std::vector<std::string>(ids.begin() + 10, ids.end()));
    EXPECT_TRUE(is_frame(last, "end")) << last;
    // The table's spelling, `from`, and 0 as a number.
    ws->send_json({{"type", "fetch"}, {"stream", "h"}, {"id", "b"}, {"from", 0}});
    got = drain(*ws, "b", &last);
    EXPECT_EQ(got, ids);
    ws->send_json({{"type", "fetch"}, {"stream", "h"}, {"id", "c"}, {"from", ids.back()}});
    EXPECT_EQ(drain(*ws, "c", &last), std::vector<std::string>{});
    EXPECT_TRUE(is_frame(last, "end"));
}

TEST_F(HistoryFetch, WhereFiltersRowsAndAnEmptyResultEndsAtOnce) {
    fill(cli(), "h", 300, "a");
    add("h", {{"kind", "b"}, {"n", "1"}, {"j", R"({"x":1})"}});
    fill(cli(), "h", 300, "a");
    add("h", {{"kind", "b"}, {"n", "2"}});
    const auto ids = all_ids(cli(), "h");
    auto ws = connect_ws();
    ws->send_json({{"type", "fetch"}, {"stream", "h"}, {"id", 1}, {"where", {{"kind", "b"}}}});
    json last;
    EXPECT_EQ(drain(*ws, 1, &last), (std::vector<std::string>{ids[300], ids[601]}));
    EXPECT_TRUE(is_frame(last, "end"));
    // A non-string value compares with the JSON text a publish stores.
    ws->send_json(
        {{"type", "fetch"}, {"stream", "h"}, {"id", 2}, {"where", {{"kind", "b"}, {"n", 2}}}});
    EXPECT_EQ(drain(*ws, 2, &last), (std::vector<std::string>{ids[601]}));
    ws->send_json({{"type", "fetch"}, {"stream", "h"}, {"id", 3}, {"where", {{"kind", "zzz"}}}});
    EXPECT_EQ(drain(*ws, 3, &last), std::vector<std::string>{});
    EXPECT_EQ(last, json::parse(R"({"type":"end","id":3})"));
    // A missing stream is empty.
    ws->send_json({{"type", "fetch"}, {"stream", "none"}, {"id", 4}});
    EXPECT_EQ(drain(*ws, 4, &last), std::vector<std::string>{});
    EXPECT_TRUE(is_frame(last, "end"));
}

TEST_F(HistoryFetch, NoAcceptanceWithinTheTimeoutEndsTheFetch) {
    fill(cli(), "h", 10);
    auto ws = connect_ws();
    auto f = fetch(*ws, {{"stream", "h"}, {"id", "t"}});
    ASSERT_TRUE(f && is_frame(*f, "row")) << ws->describe();
    EXPECT_EQ(fetches_active(), 1);
    const auto start = std::chrono::steady_clock::now();
    f = next_for(*ws, "t", 5000ms);
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, json::parse(R"({"type":"timeout","id":"t"})"));
    EXPECT_GE(took, 800ms); // history.accept_timeout_seconds = 1
    EXPECT_TRUE(wait_fetches_active(0));
    EXPECT_EQ(metric_with_labels(daemon().metrics(), "redis_push_history_fetches_total",
                                 {"outcome=\"timeout\""}),
              1);
    // It is gone: a late acceptance names an unknown fetch; the id is free again.
    ws->send_json({{"type", "accepted"}, {"id", "t"}});
    f = next_for(*ws, "t");
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, json::parse(R"({"type":"error","error":"Unknown fetch","id":"t"})"));
    f = fetch(*ws, {{"stream", "h"}, {"id", "t"}});
    ASSERT_TRUE(f && is_frame(*f, "row"));
}

TEST_F(HistoryFetch, TheClientsEndStopsTheFetchAndIsAnswered) {
    fill(cli(), "h", 10);
    auto ws = connect_ws();
    auto f = fetch(*ws, {{"stream", "h"}, {"id", 5}});
    ASSERT_TRUE(f && is_frame(*f, "row"));
    ws->send_json({{"type", "end"}, {"id", 5}});
    f = next_for(*ws, 5);
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, json::parse(R"({"type":"end","id":5})"));
    EXPECT_TRUE(wait_fetches_active(0));
    ws->send_json({{"type", "accepted"}, {"id", 5}});
    f = next_for(*ws, 5);
    ASSERT_TRUE(f);
    EXPECT_EQ((*f)["error"], "Unknown fetch");
    ws->send_json({{"type", "end"}, {"id", 5}});
    f = next_for(*ws, 5);
    ASSERT_TRUE(f);
    EXPECT_EQ((*f)["error"], "Unknown fetch");
    EXPECT_EQ(metric_with_labels(daemon().metrics(), "redis_push_history_fetches_total",
                                 {"outcome=\"stopped\""}),
              1);
}

TEST_F(HistoryFetch, SeveralFetchesOnOneSocketAreToldApartById) {
    fill(cli(), "a", 5, "a");
    fill(cli(), "b", 5, "b");
    const auto ida = all_ids(cli(), "a");
    const auto idb = all_ids(cli(), "b");
    auto ws = connect_ws();
    ws->send_json({{"type", "fetch"}, {"stream", "a"}, {"id", "x"}});
    ws->send_json({{"type", "fetch"}, {"stream", "b"}, {"id", "y"}});
    ws->send_json({{"type", "fetch"}, {"stream", "a"}, {"id", json{{"n", 1}}}, {"after", ida[2]}});
    std::map<std::string, std::vector<std::string>> rows;
    std::map<std::string, std::string> ends;
    std::set<std::string> open = {"\"x\"", "\"y\"", "{\"n\":1}"};
    while (!open.empty()) {
        const auto f = ws->read_json();
        ASSERT_TRUE(f) << ws->describe();
        const auto key = (*f)["id"].dump();
        ASSERT_TRUE(open.contains(key)) << *f;
        if (is_frame(*f, "row")) {
            const auto& m = (*f)["message"];
            rows[key].push_back(m["offset"]);
            EXPECT_EQ(m["kind"], key == "\"y\"" ? "b" : "a");
            ws->send_json({{"type", "accepted"}, {"id", (*f)["id"]}});
        } else {
            ends[key] = (*f)["type"];
            open.erase(key);
        }
    }
    EXPECT_EQ(rows["\"x\""], ida);
    EXPECT_EQ(rows["\"y\""], idb);
    EXPECT_EQ(rows["{\"n\":1}"], (std::vector<std::string>{ida[3], ida[4]}));
    for (auto& [k, v] : ends)
        EXPECT_EQ(v, "end") << k;
    EXPECT_TRUE(wait_fetches_active(0));
}

TEST_F(HistoryFetch, ASocketThatClosesFreesAllItsFetchesAtOnce) {
    fill(cli(), "h", 500);
    auto ws = connect_ws();
    for (int i = 0; i < 3; ++i)
        ws->send_json({{"type", "fetch"}, {"stream", "h"}, {"id", i}});
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(next_for(*ws, i)) << ws->describe();
    auto other = connect_ws();
    ASSERT_TRUE(fetch(*other, {{"stream", "h"}, {"id", 9}}));
    EXPECT_EQ(fetches_active(), 4);
    ws->abort();
    EXPECT_TRUE(wait_fetches_active(1)) << fetches_active();
    EXPECT_EQ(metric_with_labels(daemon().metrics(), "redis_push_history_fetches_total",
                                 {"outcome=\"stopped\""}),
              3);
    other->close();
    EXPECT_TRUE(wait_fetches_active(0));
}

TEST_F(HistoryFetch, ARedisFailureMidFetchIsAnErrorFrame) {
    fill(cli(), "h", 350);
    auto ws = connect_ws();
    auto f = fetch(*ws, {{"stream", "h"}, {"id", "e"}});
    ASSERT_TRUE(f && is_frame(*f, "row"));
    // The key turns into a string: the next batch's read fails.
    cli().command({"DEL", skey("h")});
    cli().set(skey("h"), "not a stream");
    ws->send_json({{"type", "accepted"}, {"id", "e"}});
    json last;
    const auto rows = drain(*ws, "e", &last);
    EXPECT_LT(rows.size(), 350u);
    EXPECT_EQ(last, json::parse(R"({"type":"error","error":"Wrong type of Redis key","id":"e"})"));
    EXPECT_TRUE(wait_fetches_active(0));
    EXPECT_EQ(metric_with_labels(daemon().metrics(), "redis_push_history_fetches_total",
                                 {"outcome=\"error\""}),
              1);
}

TEST_F(HistoryFetch, RedisGoneMidFetchIsAnErrorFrame) {
    fill(cli(), "h", 350);
    auto ws = connect_ws();
    auto f = fetch(*ws, {{"stream", "h"}, {"id", "e"}});
    ASSERT_TRUE(f && is_frame(*f, "row"));
    redis().stop();
    ws->send_json({{"type", "accepted"}, {"id", "e"}});
    json last;
    drain(*ws, "e", &last);
    EXPECT_EQ(last, json::parse(R"({"type":"error","error":"Redis unavailable","id":"e"})"));
    EXPECT_TRUE(wait_fetches_active(0));
}

TEST_F(HistoryFetch, BadFetchesAreErrorFramesAndTheSocketStays) {
    add("h", {{"a", "1"}});
    auto ws = connect_ws();
    const auto err = [&](json req) -> std::string {
        req["type"] = "fetch";
        ws->send_json(req);
        const auto f = ws->read_json();
        if (!f || !is_frame(*f, "error"))
            return "<no error: " + (f ? f->dump() : std::string("none")) + ">";
        return (*f)["error"];
    };
    EXPECT_EQ(err({{"stream", "h"}}), "Invalid parameter"); // no id
    EXPECT_EQ(err({{"stream", "h"}, {"id", 1}, {"after", "x"}}), "Invalid parameter");
    EXPECT_EQ(err({{"stream", "h"}, {"id", 1}, {"after", "$"}}), "Invalid parameter");
    EXPECT_EQ(err({{"stream", "h"}, {"id", 1}, {"after", 5}}), "Invalid parameter");
    EXPECT_EQ(err({{"stream", "h"}, {"id", 1}, {"after", "1"}, {"from", "1"}}),
              "Invalid parameter");
    EXPECT_EQ(err({{"stream", "h"}, {"id", 1}, {"where", "kind:a"}}), "Invalid parameter");
    EXPECT_EQ(err({{"stream", "bad name"}, {"id", 1}}), "Invalid name");
    EXPECT_EQ(err({{"id", 1}}), "Invalid name");
    // A second fetch under a running id.
    ws->send_json({{"type", "fetch"}, {"stream", "h"}, {"id", 1}});
    ASSERT_TRUE(next_for(*ws, 1));
    EXPECT_EQ(err({{"stream", "h"}, {"id", 1}}), "already fetching");
    ws->send_json({{"type", "accepted"}, {"id", 99}});
    auto f = ws->read_json();
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, json::parse(R"({"type":"error","error":"Unknown fetch","id":99})"));
    // The running one is unharmed.
    ws->send_json({{"type", "accepted"}, {"id", 1}});
    f = next_for(*ws, 1);
    ASSERT_TRUE(f);
    EXPECT_TRUE(is_frame(*f, "end")) << *f;
}

class HistoryFetchLimits : public HistoryFetch {
    json history_config() override {
        return {{"ws", {{"max_subscriptions", 2}}}, {"history", {{"accept_timeout_seconds", 30}}}};
    }
};

TEST_F(HistoryFetchLimits, AtMostWsMaxSubscriptionsFetchesPerSocket) {
    fill(cli(), "h", 10);
    auto ws = connect_ws();
    ASSERT_TRUE(fetch(*ws, {{"stream", "h"}, {"id", 1}}));
    ASSERT_TRUE(fetch(*ws, {{"stream", "h"}, {"id", 2}}));
    auto f = fetch(*ws, {{"stream", "h"}, {"id", 3}});
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, json::parse(R"({"type":"error","error":"Too many fetches","id":3})"));
}

class HistoryFetchOff : public HistoryFetch {
    json history_config() override { return {{"history", {{"enabled", false}}}}; }
};

TEST_F(HistoryFetchOff, AFetchIsAnErrorFrame) {
    auto ws = connect_ws();
    auto f = fetch(*ws, {{"stream", "h"}, {"id", 1}});
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, json::parse(R"({"type":"error","error":"History mode is switched off","id":1})"));
}

} // namespace
