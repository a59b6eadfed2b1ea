// The small pure pieces of the endpoint/feed seam: the router, the end
// reason table, the Accept match, the output queue's books.

#include "redis_push/endpoints/task_endpoint.hpp"
#include "redis_push/feed/end_reason.hpp"
#include "redis_push/http/output_queue.hpp"
#include "redis_push/http/request_metrics.hpp"
#include "redis_push/http/router.hpp"

#include <gtest/gtest.h>

namespace {

namespace http = rpd::http;
using rpd::feed::end_reason;

struct named final : http::endpoint {
    void serve(http::exchange&) override {}
};

TEST(PathRouter, ExactBeforePrefixLongestPrefixFirstElseFallback) {
    named exact, short_prefix, long_prefix, fallback;
    http::router r;
    r.add_prefix("/a/", short_prefix);
    r.add_prefix("/a/b/", long_prefix);
    r.add_exact("/a/x", exact);
    EXPECT_EQ(r.resolve("/a/x"), &exact);
    EXPECT_EQ(r.resolve("/a/y"), &short_prefix);
    EXPECT_EQ(r.resolve("/a/b/c"), &long_prefix);
    EXPECT_EQ(r.resolve("/a"), nullptr);
    r.set_fallback(fallback);
    EXPECT_EQ(r.resolve("/a"), &fallback);
    EXPECT_EQ(r.resolve(""), &fallback);
}

TEST(EndReasons, TheTable) {
    using rpd::feed::describe;
    EXPECT_EQ(describe(end_reason::found).status, 200u);
    EXPECT_EQ(describe(end_reason::not_found).status, 404u);
    EXPECT_EQ(describe(end_reason::not_found).error_text, "Not Found");
    EXPECT_EQ(describe(end_reason::invalid_json).status, 502u);
    EXPECT_EQ(describe(end_reason::invalid_json).error_text, "Invalid JSON in task data");
    EXPECT_EQ(describe(end_reason::unavailable).status, 503u);
    EXPECT_EQ(describe(end_reason::unavailable).error_text, "Redis unavailable");
    EXPECT_EQ(describe(end_reason::killed).error_text,
              "Killed due to another concurrent request for this task");
    EXPECT_EQ(describe(end_reason::timed_out).error_text, "Watch timed out");
    EXPECT_EQ(describe(end_reason::shutting_down).status, 503u);
    EXPECT_EQ(describe(end_reason::shutting_down).error_text, "Server shutting down");
    EXPECT_TRUE(rpd::feed::is_answer(end_reason::found));
    EXPECT_TRUE(rpd::feed::is_answer(end_reason::delivered));
    EXPECT_FALSE(rpd::feed::is_answer(end_reason::killed));
}

TEST(EndReasons, MetricLabelsAreTheCountersResults) {
    for (int i = 0; i < static_cast<int>(end_reason::count_); ++i) {
        const auto r = static_cast<end_reason>(i);
        EXPECT_EQ(http::to_string(http::result_of(r)), rpd::feed::describe(r).metric_label);
    }
    EXPECT_EQ(http::to_string(http::request_result::client_closed), "client_closed");
}

TEST(AcceptsEventStream, MediaRangeLists) {
    using rpd::endpoints::accepts_event_stream;
    EXPECT_TRUE(accepts_event_stream("text/event-stream"));
    EXPECT_TRUE(accepts_event_stream("Text/Event-Stream"));
    EXPECT_TRUE(accepts_event_stream("application/json, text/event-stream;q=0.9"));
    EXPECT_TRUE(accepts_event_stream(" text/event-stream , */*"));
    EXPECT_FALSE(accepts_event_stream(""));
    EXPECT_FALSE(accepts_event_stream("*/*"));
    EXPECT_FALSE(accepts_event_stream("application/json"));
    EXPECT_FALSE(accepts_event_stream("text/event-streams"));
    EXPECT_FALSE(accepts_event_stream("text/event"));
}

TEST(OutputQueue, PartialWritesStallAndTheLimitCountsBoth) {
    http::output_queue q;
    q.queued() = "0123456789";
    EXPECT_EQ(q.begin_write(), "0123456789");
    EXPECT_TRUE(q.writing());
    EXPECT_FALSE(q.has_queued());
    EXPECT_EQ(q.wrote(4), "456789");
    EXPECT_TRUE(q.stalled());
    q.queued() = "abc";
    EXPECT_FALSE(q.over_limit(9));
    EXPECT_TRUE(q.over_limit(8));
    EXPECT_EQ(q.wrote(6), "");
    EXPECT_TRUE(q.finish_write(false));
    EXPECT_FALSE(q.stalled());
    EXPECT_FALSE(q.writing());
    EXPECT_FALSE(q.over_limit(0));
}

TEST(OutputQueue, StaticWritesLeaveTheQueueAlone) {
    http::output_queue q;
    q.queued() = "later";
    EXPECT_EQ(q.begin_static_write("\n"), "\n");
    EXPECT_TRUE(q.has_queued());
    EXPECT_EQ(q.wrote(1), "");
    EXPECT_FALSE(q.finish_write(true));
    EXPECT_EQ(q.queued(), "later");
}

} // namespace
