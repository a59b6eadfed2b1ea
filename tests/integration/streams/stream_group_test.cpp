// Consumer groups (MODES.md 3 "Consumer groups"):
// `GET /stream/<name>?group=<g>&consumer=<c>&count=N` reads new messages
// for the group (XREADGROUP ... >), waiting like a long-poll; the group is
// created on first use (MKSTREAM, at $, or at 0 with &start=0); &pending
// returns the consumer's own unacknowledged messages; `POST
// /stream/<name>/ack?group=<g>` with a JSON array of offsets: 200
// {"acked":N}; messages idle longer than stream.claim_idle_ms on another
// consumer are claimed first.
#include "streams/stream_common.hpp"

using namespace rpd::test;

namespace {

const header_list kJson = {{"Content-Type", "application/json"}};

class StreamGroup : public stream_test {
protected:
    json read(const std::string& name, const std::string& query) {
        auto r = get("/stream/" + name + "?" + query);
        EXPECT_EQ(r.status, 200) << query << " -> " << r.body;
        EXPECT_TRUE(is_message_array(r)) << query;
        return parse_or_null(r.body);
    }
    // Group names in Redis, via XINFO GROUPS.
    std::map<std::string, long long> groups(const std::string& name) {
        std::map<std::string, long long> out;
        auto v = cli().command({"XINFO", "GROUPS", skey(name)});
        for (auto& g : v.elements) {
            std::string gname;
            long long pending = 0;
            for (std::size_t i = 0; i + 1 < g.elements.size(); i += 2) {
                if (g.elements[i].str == "name")
                    gname = g.elements[i + 1].str;
                if (g.elements[i].str == "pending")
                    pending = g.elements[i + 1].integer;
            }
            out[gname] = pending;
        }
        return out;
    }
};

TEST_F(StreamGroup, TheGroupIsCreatedOnFirstUseAtDollar) {
    add("g1", {{"x", "before"}});
    auto first = read("g1", "group=workers&consumer=c1&timeout=0");
    EXPECT_EQ(first, json::array()) << "a new group starts at $: nothing old";
    ASSERT_EQ(groups("g1").count("workers"), 1u) << "the group was not created";
    const auto id = add("g1", {{"x", "after"}});
    EXPECT_EQ(read("g1", "group=workers&consumer=c1&timeout=0"),
              json::array({{{"offset", id}, {"x", "after"}}}));
}

TEST_F(StreamGroup, RedisSeesXgroupCreateMkstreamXreadgroupAndXack) {
    redis_monitor mon(redis().port());
    read("mg", "group=g&consumer=c&timeout=0");
    EXPECT_TRUE(mon.wait_for({R"("XGROUP" "CREATE" "RA_S_mg" "g" "$" "MKSTREAM")"})) << mon.text();
    EXPECT_TRUE(mon.wait_for({R"("XREADGROUP" "GROUP" "g" "c")", R"(">")"})) << mon.text();
    read("mg0", "group=g&consumer=c&start=0&timeout=0");
    EXPECT_TRUE(mon.wait_for({R"("XGROUP" "CREATE" "RA_S_mg0" "g" "0" "MKSTREAM")"})) << mon.text();
    const auto id = add("mg", {{"x", "1"}});
    read("mg", "group=g&consumer=c&timeout=0");
    read("mg", "group=g&consumer=c&pending&timeout=0");
    EXPECT_TRUE(mon.wait_for({R"("XREADGROUP" "GROUP" "g" "c")", R"("RA_S_mg" "0")"}))
        << "&pending reads XREADGROUP ... 0:\n"
        << mon.text();
    auto r = post(port(), "/stream/mg/ack?group=g", json{id}.dump(), kJson);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(mon.wait_for({R"("XACK" "RA_S_mg" "g")", id})) << mon.text();
}

TEST_F(StreamGroup, MkstreamCreatesAMissingStream) {
    EXPECT_EQ(read("fresh", "group=g&consumer=c&timeout=0"), json::array());
    EXPECT_EQ(cli().command({"TYPE", skey("fresh")}).str, "stream");
    EXPECT_EQ(groups("fresh").count("g"), 1u);
}

TEST_F(StreamGroup, StartZeroReadsFromTheBeginning) {
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i)
        ids.push_back(add("g0", {{"i", std::to_string(i)}}));
    auto got = read("g0", "group=g&consumer=c&start=0&timeout=0");
    EXPECT_EQ(offsets_of(got), ids);
}

TEST_F(StreamGroup, TwoConsumersShareTheMessagesNoneToBoth) {
    read("share", "group=g&consumer=a&timeout=0"); // create at $
    std::set<std::string> all;
    for (int i = 0; i < 30; ++i)
        all.insert(add("share", {{"i", std::to_string(i)}}));
    std::set<std::string> seen_a, seen_b;
    for (int round = 0; round < 40 && seen_a.size() + seen_b.size() < 30; ++round) {
        for (auto* who : {"a", "b"}) {
            auto got = read("share", std::string("group=g&consumer=") + who + "&count=4&timeout=0");
            EXPECT_LE(got.size(), 4u);
            for (auto& o : offsets_of(got))
                (std::string(who) == "a" ? seen_a : seen_b).insert(o);
        }
    }
    std::set<std::string> both;
    std::set_intersection(seen_a.begin(), seen_a.end(), seen_b.begin(), seen_b.end(),
                          std::inserter(both, both.begin()));
    EXPECT_TRUE(both.empty()) << both.size() << " messages went to both consumers";
    std::set<std::string> uni = seen_a;
    uni.insert(seen_b.begin(), seen_b.end());
    EXPECT_EQ(uni, all);
    EXPECT_FALSE(seen_a.empty());
    EXPECT_FALSE(seen_b.empty());
}

TEST_F(StreamGroup, AGroupReadWaitsLikeALongPoll) {
    read("gw", "group=g&consumer=c&timeout=0");
    stream_poll p(port(), "/stream/gw?group=g&consumer=c&timeout=20");
    ASSERT_TRUE(wait_watched("gw"));
    const auto id = add("gw", {{"x", "1"}});
    auto r = p.wait(5000ms);
    ASSERT_TRUE(r) << "the waiting group read was not answered within 5 s of the XADD";
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(has_no_store(*r));
    EXPECT_EQ(offsets_of(parse_or_null(r->body)), std::vector<std::string>{id});

    // And a wait that ends empty is 200 [].
    const auto t0 = clock::now();
    auto e = get("/stream/gw?group=g&consumer=c&timeout=1", {}, 10000ms);
    EXPECT_EQ(e.status, 200);
    EXPECT_EQ(e.body, "[]");
    EXPECT_GE(clock::now() - t0, 900ms);
}

TEST_F(StreamGroup, PendingAndAck) {
    read("pa", "group=g&consumer=c1&timeout=0");
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i)
        ids.push_back(add("pa", {{"i", std::to_string(i)}}));
    EXPECT_EQ(offsets_of(read("pa", "group=g&consumer=c1&timeout=0")), ids);
    // Nothing new, but three pending for c1, none for c2.
    EXPECT_EQ(read("pa", "group=g&consumer=c1&timeout=0"), json::array());
    auto pend = read("pa", "group=g&consumer=c1&pending&timeout=0");
    EXPECT_EQ(offsets_of(pend), ids);
    EXPECT_EQ(pend[0], (json{{"offset", ids[0]}, {"i", 0}})) << "pending messages are messages";
    EXPECT_EQ(read("pa", "group=g&consumer=c2&pending&timeout=0"), json::array());

    auto r = post(port(), "/stream/pa/ack?group=g", json{ids[0], ids[1]}.dump(), kJson);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(parse_or_null(r.body), (json{{"acked", 2}}));
    EXPECT_TRUE(is_json_content_type(r));
    EXPECT_EQ(offsets_of(read("pa", "group=g&consumer=c1&pending&timeout=0")),
              std::vector<std::string>{ids[2]});
    EXPECT_EQ(groups("pa")["g"], 1);

    // Acknowledging again (or something unknown) acknowledges nothing.
    r = post(port(), "/stream/pa/ack?group=g", json{ids[0], "1-1"}.dump(), kJson);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(parse_or_null(r.body), (json{{"acked", 0}}));
}

TEST_F(StreamGroup, AckRejectsWhatIsNotAnArrayOfOffsets) {
    read("ab", "group=g&consumer=c&timeout=0");
    for (const std::string body : {"{}", "\"1-1\"", "[1]", "[\"abc\"]", "not json"}) {
        auto r = post(port(), "/stream/ab/ack?group=g", body, kJson);
        EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    }
}

class StreamGroupClaim : public stream_test {
    json extra_config() override { return {{"stream", {{"claim_idle_ms", 200}}}}; }
};

TEST_F(StreamGroupClaim, IdleMessagesOfADeadConsumerAreClaimedFirst) {
    auto r = get("/stream/cl?group=g&consumer=dead&timeout=0");
    ASSERT_EQ(r.status, 200);
    const auto a = add("cl", {{"i", "0"}});
    const auto b = add("cl", {{"i", "1"}});
    r = get("/stream/cl?group=g&consumer=dead&timeout=0");
    ASSERT_EQ(offsets_of(parse_or_null(r.body)), (std::vector<std::string>{a, b}));
    const auto c = add("cl", {{"i", "2"}});

    // Wait (a precondition, not a measurement) until Redis says both have
    // been idle longer than claim_idle_ms.
    ASSERT_TRUE(wait_until(
        [&] {
            auto v = cli().command({"XPENDING", skey("cl"), "g", "IDLE", "300", "-", "+", "10"});
            return v.elements.size() == 2;
        },
        5000ms, 50ms));
    redis_monitor mon(redis().port());
    r = get("/stream/cl?group=g&consumer=alive&count=10&timeout=0");
    EXPECT_TRUE(mon.wait_for({R"("XAUTOCLAIM" "RA_S_cl" "g" "alive" "200")"}))
        << "XAUTOCLAIM with min-idle-time stream.claim_idle_ms:\n"
        << mon.text();
    ASSERT_EQ(r.status, 200) << r.body;
    auto got = offsets_of(parse_or_null(r.body));
    ASSERT_GE(got.size(), 2u) << r.body;
    EXPECT_EQ(got[0], a) << "claimed messages come before new ones";
    EXPECT_EQ(got[1], b);
    if (got.size() > 2) {
        EXPECT_EQ(got[2], c);
    }
    // Redis now has them pending on "alive".
    auto pend = cli().command({"XPENDING", skey("cl"), "g", "-", "+", "10", "alive"});
    std::vector<std::string> owned;
    for (auto& e : pend.elements)
        owned.push_back(e.elements[0].str);
    EXPECT_TRUE(std::find(owned.begin(), owned.end(), a) != owned.end());
    EXPECT_TRUE(std::find(owned.begin(), owned.end(), b) != owned.end());
    // The dead consumer no longer holds them.
    auto dead = cli().command({"XPENDING", skey("cl"), "g", "-", "+", "10", "dead"});
    EXPECT_EQ(dead.elements.size(), 0u);
}

TEST_F(StreamGroupClaim, RecentlyReadMessagesAreNotClaimed) {
    get("/stream/cl2?group=g&consumer=one&timeout=0");
    add("cl2", {{"i", "0"}});
    auto r = get("/stream/cl2?group=g&consumer=one&timeout=0");
    ASSERT_EQ(parse_or_null(r.body).size(), 1u);
    // At once: not idle for 200 ms yet (a generous margin: the read above
    // took far less than that).
    r = get("/stream/cl2?group=g&consumer=two&timeout=0");
    EXPECT_EQ(r.body, "[]") << "a message pending for less than claim_idle_ms was claimed";
}

TEST_F(StreamGroup, BadParametersAndWrongType) {
    auto r = get("/stream/bp?group=g&consumer=c&count=-1&timeout=0");
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(is_error_body(r.body, "Invalid parameter"));
    cli().set(skey("wt"), "x");
    r = get("/stream/wt?group=g&consumer=c&timeout=0");
    EXPECT_EQ(r.status, 502);
    EXPECT_TRUE(is_error_body(r.body, "Wrong type of Redis key"));
}

} // namespace
