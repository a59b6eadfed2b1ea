// Unit tests of the pure parts of the history mode (MODES.md 3 "History
// pages", 6 "History direction", "Parameters"): the page query
// (endpoints::parse_history_request, parse_filter), the filter rule
// (streams::matches over hand-built hiredis replies), the Redis range
// command (streams::range_command) and the page body (render_page).
#include "redis_push/endpoints/history_request.hpp"
#include "redis_push/redis/reply.hpp"
#include "redis_push/streams/history_page.hpp"
#include "redis_push/streams/history_query.hpp"

#include <hiredis/hiredis.h>

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace {

using rpd::endpoints::parse_filter;
using rpd::endpoints::parse_history_request;
using rpd::streams::direction;
using rpd::streams::stream_id;
namespace streams = rpd::streams;

// A flat array of bulk strings, as an entry's fields come from Redis.
class fields_reply {
public:
    explicit fields_reply(std::vector<std::string> values) : texts_(std::move(values)) {
        for (auto& t : texts_) {
            nodes_.emplace_back();
            nodes_.back().type = REDIS_REPLY_STRING;
            nodes_.back().str = t.data();
            nodes_.back().len = t.size();
        }
        for (auto& n : nodes_)
            pointers_.push_back(&n);
        top_.type = REDIS_REPLY_ARRAY;
        top_.element = pointers_.data();
        top_.elements = pointers_.size();
    }
    rpd::redis::reply view() const { return rpd::redis::reply(&top_); }

private:
    std::vector<std::string> texts_;
    std::deque<redisReply> nodes_;
    std::vector<redisReply*> pointers_;
    redisReply top_{};
};

std::vector<std::string> args_of(const rpd::redis::argv& a) {
    std::vector<std::string> out;
    for (int i = 0; i < a.size(); ++i)
        out.emplace_back(a[static_cast<std::size_t>(i)]);
    return out;
}

// ---- parse_history_request ---------------------------------------------------------------

TEST(HistoryRequest, DefaultsAscendingFromTheBeginningLimit100) {
    const auto r = parse_history_request("", 1000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->range.dir, direction::ascending);
    EXPECT_FALSE(r->range.from);
    EXPECT_EQ(r->limit, 100u);
    EXPECT_TRUE(r->where.empty());
    // The default is clamped like any limit.
    EXPECT_EQ(parse_history_request("", 10)->limit, 10u);
}

TEST(HistoryRequest, AfterBeforeAndOrder) {
    auto r = parse_history_request("after=5-3", 1000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->range.dir, direction::ascending);
    EXPECT_EQ(r->range.from, (stream_id{5, 3}));
    r = parse_history_request("from=5-3", 1000); // the spec's other name
    ASSERT_TRUE(r);
    EXPECT_EQ(r->range.from, (stream_id{5, 3}));
    r = parse_history_request("after=0", 1000);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->range.from); // 0: from the beginning
    r = parse_history_request("before=7", 1000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->range.dir, direction::descending);
    EXPECT_EQ(r->range.from, (stream_id{7, 0}));
    r = parse_history_request("order=desc", 1000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->range.dir, direction::descending);
    EXPECT_FALSE(r->range.from);
    r = parse_history_request("order=desc&before=0", 1000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->range.from, (stream_id{0, 0}));
}

TEST(HistoryRequest, LimitClampedAndZeroReadsOne) {
    EXPECT_EQ(parse_history_request("limit=5", 1000)->limit, 5u);
    EXPECT_EQ(parse_history_request("limit=5000", 1000)->limit, 1000u);
    EXPECT_EQ(parse_history_request("limit=0", 1000)->limit, 1u);
    EXPECT_EQ(parse_history_request("limit=99999999999999999999999", 1000)->limit, 1000u);
}

TEST(HistoryRequest, WhereIsRepeatableAndDecoded) {
    const auto r = parse_history_request("where=kind:a%20b&where=n%3A1&where=t:x:y&where=e:", 1000);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->where.size(), 4u);
    EXPECT_EQ(r->where[0].field, "kind");
    EXPECT_EQ(r->where[0].value, "a b");
    EXPECT_EQ(r->where[1].field, "n");
    EXPECT_EQ(r->where[1].value, "1");
    EXPECT_EQ(r->where[2].field, "t");
    EXPECT_EQ(r->where[2].value, "x:y");
    EXPECT_EQ(r->where[3].value, "");
}

TEST(HistoryRequest, InvalidParameters) {
    for (const char* q : {"after=x", "after=$", "after=1-", "before=$", "before=-1", "limit=-1",
                          "limit=1.5", "limit=", "order=asc", "order=DESC", "where=novalue",
                          "where=:v", "after=1&before=2", "after=1&order=desc", "after=%zz",
                          "after=1&from=1", "from=1&after=1", "from=1&before=2", "from=x"})
        EXPECT_FALSE(parse_history_request(q, 1000)) << q;
    EXPECT_TRUE(parse_history_request("unknown=1&sse", 1000));
}

TEST(HistoryRequest, ParseFilterSplitsAtTheFirstColon) {
    EXPECT_FALSE(parse_filter("abc"));
    EXPECT_FALSE(parse_filter(":x"));
    const auto f = parse_filter("a:b:c");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->field, "a");
    EXPECT_EQ(f->value, "b:c");
}

// ---- matches -----------------------------------------------------------------------------

TEST(HistoryFilter, EveryFilterMustHoldOnTheRawString) {
    const fields_reply e({"kind", "a", "n", "1", "j", R"({"x": 1})"});
    EXPECT_TRUE(streams::matches({}, e.view()));
    EXPECT_TRUE(streams::matches({{"kind", "a"}}, e.view()));
    EXPECT_TRUE(streams::matches({{"kind", "a"}, {"n", "1"}}, e.view()));
    EXPECT_FALSE(streams::matches({{"kind", "a"}, {"n", "2"}}, e.view()));
    EXPECT_FALSE(streams::matches({{"missing", ""}}, e.view()));
    EXPECT_TRUE(streams::matches({{"j", R"({"x": 1})"}}, e.view()));
    EXPECT_FALSE(streams::matches({{"j", R"({"x":1})"}}, e.view())); // not re-encoded
    EXPECT_FALSE(streams::matches({{"a", "kind"}}, e.view()));       // values are not names
}

TEST(HistoryFilter, TheFirstOccurrenceOfAFieldDecides) {
    const fields_reply e({"k", "1", "k", "2"});
    EXPECT_TRUE(streams::matches({{"k", "1"}}, e.view()));
    EXPECT_FALSE(streams::matches({{"k", "2"}}, e.view()));
}

// ---- range_command -----------------------------------------------------------------------

TEST(HistoryRange, ExclusiveBoundsBothWays) {
    auto a = streams::range_command("K", {direction::ascending, {}}, 101);
    ASSERT_TRUE(a);
    EXPECT_EQ(args_of(*a), (std::vector<std::string>{"XRANGE", "K", "-", "+", "COUNT", "101"}));
    a = streams::range_command("K", {direction::ascending, stream_id{5, 1}}, 3);
    EXPECT_EQ(args_of(*a), (std::vector<std::string>{"XRANGE", "K", "(5-1", "+", "COUNT", "3"}));
    a = streams::range_command("K", {direction::descending, {}}, 3);
    EXPECT_EQ(args_of(*a), (std::vector<std::string>{"XREVRANGE", "K", "+", "-", "COUNT", "3"}));
    a = streams::range_command("K", {direction::descending, stream_id{5, 0}}, 3);
    EXPECT_EQ(args_of(*a), (std::vector<std::string>{"XREVRANGE", "K", "(5-0", "-", "COUNT", "3"}));
}

TEST(HistoryRange, NothingBeyondTheExtremes) {
    EXPECT_FALSE(streams::range_command("K", {direction::descending, stream_id{0, 0}}, 3));
    const auto top = std::numeric_limits<std::uint64_t>::max();
    EXPECT_FALSE(streams::range_command("K", {direction::ascending, stream_id{top, top}}, 3));
    EXPECT_TRUE(streams::range_command("K", {direction::ascending, stream_id{top, 0}}, 3));
}

// ---- render_page -------------------------------------------------------------------------

TEST(HistoryPageBody, MessagesNextAndEnd) {
    EXPECT_EQ(streams::render_page("", std::nullopt, true),
              R"({"messages":[],"next":null,"end":true})");
    EXPECT_EQ(streams::render_page(R"({"offset":"1-1"},{"offset":"1-2"})", "1-2", false),
              R"({"messages":[{"offset":"1-1"},{"offset":"1-2"}],"next":"1-2","end":false})");
}

} // namespace
