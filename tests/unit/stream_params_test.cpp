// Unit tests of the stream mode's request parsing (MODES.md 3, 6
// "Parameters", "Names", "Keyspace events"): endpoints::percent_decode,
// parse_query, parse_count, parse_stream_read, mode_names and
// redis::keyspace_events::completed.
#include "redis_push/config/config.hpp"
#include "redis_push/endpoints/mode_name.hpp"
#include "redis_push/endpoints/query_params.hpp"
#include "redis_push/endpoints/stream_read_request.hpp"
#include "redis_push/redis/keyspace_events.hpp"
#include "redis_push/tasks/task_signer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace {

namespace endpoints = rpd::endpoints;
using endpoints::parse_count;
using endpoints::parse_query;
using endpoints::percent_decode;
using rpd::streams::stream_id;
using namespace std::chrono_literals;

// ---- percent_decode -------------------------------------------------------------------------

TEST(PercentDecode, EscapesOnce) {
    EXPECT_EQ(percent_decode("a%41%2f%2F", false), "aA//");
    EXPECT_EQ(percent_decode("%2541", false), "%41"); // once, not twice
    EXPECT_EQ(percent_decode("", false), "");
    EXPECT_EQ(percent_decode("%00", false), std::string(1, '\0'));
    EXPECT_EQ(percent_decode("%ff", false), "\xff");
}

TEST(PercentDecode, PlusOnlyInQueries) {
    EXPECT_EQ(percent_decode("a+b", true), "a b");
    EXPECT_EQ(percent_decode("a+b", false), "a+b");
    EXPECT_EQ(percent_decode("a%2Bb", true), "a+b");
}

TEST(PercentDecode, BrokenEscapes) {
    for (const char* s : {"%", "%4", "a%", "%zz", "%4g", "%g4", "%%", "%-1", "% 1", "ab%2"})
        EXPECT_FALSE(percent_decode(s, true)) << s;
}

// ---- parse_query -----------------------------------------------------------------------------

TEST(ParseQuery, PairsInOrder) {
    const auto q = parse_query("b=2&a=1&flag&e=&b=3");
    ASSERT_TRUE(q);
    ASSERT_EQ(q->size(), 5u);
    EXPECT_EQ((*q)[0].name, "b");
    EXPECT_EQ((*q)[0].value, "2");
    EXPECT_TRUE((*q)[0].has_value);
    EXPECT_EQ((*q)[2].name, "flag");
    EXPECT_EQ((*q)[2].value, "");
    EXPECT_FALSE((*q)[2].has_value);
    EXPECT_EQ((*q)[3].name, "e");
    EXPECT_TRUE((*q)[3].has_value);
    EXPECT_EQ((*q)[4].value, "3");
}

TEST(ParseQuery, EmptyPartsSkippedAndDecoded) {
    const auto q = parse_query("&&a%20b=c+d%3D&");
    ASSERT_TRUE(q);
    ASSERT_EQ(q->size(), 1u);
    EXPECT_EQ((*q)[0].name, "a b");
    EXPECT_EQ((*q)[0].value, "c d=");
    EXPECT_TRUE(parse_query("")->empty());
}

TEST(ParseQuery, ValueKeepsLaterEquals) {
    const auto q = parse_query("a=b=c");
    ASSERT_TRUE(q);
    EXPECT_EQ((*q)[0].value, "b=c");
}

TEST(ParseQuery, BrokenEscapeFailsTheWhole) {
    EXPECT_FALSE(parse_query("a=1&b=%zz"));
    EXPECT_FALSE(parse_query("%=1"));
}

// ---- parse_count -----------------------------------------------------------------------------

TEST(ParseCount, Decimal) {
    EXPECT_EQ(parse_count("0", 10), 0u);
    EXPECT_EQ(parse_count("7", 10), 7u);
    EXPECT_EQ(parse_count("007", 10), 7u);
    EXPECT_EQ(parse_count("10", 10), 10u);
}

TEST(ParseCount, ClampedToMax) {
    EXPECT_EQ(parse_count("11", 10), 10u);
    EXPECT_EQ(parse_count("18446744073709551615", 10), 10u);
    EXPECT_EQ(parse_count("18446744073709551616", 10), 10u); // over 64 bits: still digits
    EXPECT_EQ(parse_count("99999999999999999999", 300), 300u);
}

TEST(ParseCount, NonDecimalRefused) {
    for (const char* s :
         {"", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "a", "1a", "--1", "\xd9\xa1"})
        EXPECT_FALSE(parse_count(s, 100)) << s;
    EXPECT_FALSE(parse_count(std::string("1\0", 2), 100));
}

// ---- parse_stream_read (MODES.md 3, 6 "Parameters") ------------------------------------------

rpd::config::stream_settings settings() {
    rpd::config::stream_settings s; // max_count 1000, timeout 30 s, max_timeout 300 s
    return s;
}

std::optional<endpoints::stream_read> read(std::string_view q, std::string_view last_event_id = {},
                                           bool accepts_sse = false,
                                           const rpd::config::stream_settings& s = settings()) {
    return endpoints::parse_stream_read(q, last_event_id, accepts_sse, s);
}

TEST(StreamRead, Defaults) {
    const auto r = read("");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->sse);
    EXPECT_FALSE(r->group);
    EXPECT_TRUE(r->subscribe.from.latest); // after absent = $
    EXPECT_TRUE(r->subscribe.one_shot);
    EXPECT_EQ(r->subscribe.max_messages, 100u);
    EXPECT_EQ(r->subscribe.wait, 30000ms); // stream.timeout_seconds
}

TEST(StreamRead, DefaultCountWithinMaxCount) {
    auto s = settings();
    s.max_count = 10;
    const auto r = read("", {}, false, s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->subscribe.max_messages, 10u);
}

TEST(StreamRead, AfterForms) {
    auto r = read("after=0");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->subscribe.from.latest);
    EXPECT_TRUE(r->subscribe.from.id.is_zero());
    r = read("after=%24");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->subscribe.from.latest);
    r = read("after=1700000000000-5");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->subscribe.from.id, (stream_id{1700000000000, 5}));
    r = read("after=12");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->subscribe.from.id, (stream_id{12, 0}));
    r = read("after=1%2D2");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->subscribe.from.id, (stream_id{1, 2}));
}

TEST(StreamRead, BadOffsets) {
    for (const char* q : {"after=", "after", "after=-1", "after=1-2-3", "after=abc", "after=1+",
                          "after=+1", "after=18446744073709551616", "after=1-", "after=%zz",
                          "after=0&after=x", "after=$$", "after=1.5"})
        EXPECT_FALSE(read(q)) << q;
}

TEST(StreamRead, LastEventIdWinsOverAfter) {
    const auto r = read("after=1-0", "5-2", true);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->subscribe.from.latest);
    EXPECT_EQ(r->subscribe.from.id, (stream_id{5, 2}));
}

TEST(StreamRead, LastEventIdMustBeAnId) {
    EXPECT_FALSE(read("", "$", true));
    EXPECT_FALSE(read("", "x", true));
    EXPECT_FALSE(read("after=1-0", "-1", true));
    EXPECT_FALSE(read("", " 5-0", true));
    const auto r = read("", "0", true);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->subscribe.from.id.is_zero());
    EXPECT_FALSE(r->subscribe.from.latest);
}

TEST(StreamRead, CountClampedToMaxCount) {
    auto r = read("count=5");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->subscribe.max_messages, 5u);
    r = read("count=5000");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->subscribe.max_messages, 1000u);
    auto s = settings();
    s.max_count = 3;
    r = read("count=99999999999999999999999", {}, false, s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->subscribe.max_messages, 3u);
}

TEST(StreamRead, CountNotADecimal) {
    for (const char* q : {"count=", "count", "count=-1", "count=+1", "count=1.0", "count=abc",
                          "count=1e2", "count=%201"})
        EXPECT_FALSE(read(q)) << q;
}

TEST(StreamRead, CountZeroIsAccepted) {
    const auto r = read("count=0");
    ASSERT_TRUE(r); // a non-negative decimal integer
    EXPECT_GE(r->subscribe.max_messages, 1u);
}

TEST(StreamRead, TimeoutClampedToMaxTimeout) {
    auto r = read("timeout=5");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->subscribe.wait, 5000ms);
    r = read("timeout=0");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->subscribe.wait, 0ms);
    r = read("timeout=301");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->subscribe.wait, 300000ms);
    auto s = settings();
    s.max_timeout = 10s;
    r = read("timeout=99999999999999999999999999", {}, false, s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->subscribe.wait, 10000ms);
    for (const char* q : {"timeout=", "timeout=-1", "timeout=1.5", "timeout=1s", "timeout"})
        EXPECT_FALSE(read(q)) << q;
}

TEST(StreamRead, SseByAcceptOrQuery) {
    auto r = read("", {}, true);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->sse);
    EXPECT_FALSE(r->subscribe.one_shot);
    r = read("sse");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->sse);
    EXPECT_FALSE(r->subscribe.one_shot);
    r = read("sse=1&after=3-0");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->sse);
    EXPECT_EQ(r->subscribe.from.id, (stream_id{3, 0}));
}

TEST(StreamRead, SseWithoutResumePointIsOnlyNew) {
    const auto r = read("", {}, true);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->subscribe.from.latest);
}

TEST(StreamRead, GroupNeedsConsumer) {
    EXPECT_FALSE(read("group=g"));
    EXPECT_FALSE(read("consumer=c"));
    EXPECT_FALSE(read("group=g&consumer="));
    EXPECT_FALSE(read("group=&consumer=c"));
    EXPECT_FALSE(read("group=g&consumer"));
}

TEST(StreamRead, GroupRead) {
    const auto r = read("group=g%201&consumer=c&count=7&timeout=4");
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->group);
    EXPECT_EQ(r->group->group, "g 1");
    EXPECT_EQ(r->group->consumer, "c");
    EXPECT_EQ(r->group->count, 7u);
    EXPECT_EQ(r->group->wait, 4000ms);
    EXPECT_FALSE(r->group->pending);
    EXPECT_FALSE(r->group->start_at_zero);
    EXPECT_TRUE(r->group->one_shot);
    EXPECT_FALSE(r->sse);
}

TEST(StreamRead, GroupPendingAndStart) {
    auto r = read("group=g&consumer=c&pending&start=0");
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->group);
    EXPECT_TRUE(r->group->pending);
    EXPECT_TRUE(r->group->start_at_zero);
    r = read("group=g&consumer=c&start=%24");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->group->start_at_zero);
}

TEST(StreamRead, StartOnlyZeroOrDollar) {
    for (const char* q :
         {"group=g&consumer=c&start=1", "group=g&consumer=c&start=00",
          "group=g&consumer=c&start=", "group=g&consumer=c&start=0-0", "group=g&consumer=c&start"})
        EXPECT_FALSE(read(q)) << q;
}

TEST(StreamRead, BrokenQueryIsInvalid) {
    EXPECT_FALSE(read("x=%"));
}

// ---- mode_names (MODES.md 0, 6 "Names") ---------------------------------------------------

const std::string pattern = rpd::config::stream_settings{}.name_pattern;
using kind = endpoints::mode_names::result::kind;

TEST(ModeNames, PatternOnly) {
    const endpoints::mode_names names(pattern, nullptr, "stream:");
    auto r = names.resolve("orders");
    EXPECT_EQ(r.type, kind::ok);
    EXPECT_EQ(r.name, "orders");
    EXPECT_EQ(names.resolve("a/b:c@d.e-f_g").type, kind::ok);
    EXPECT_EQ(names.resolve("").type, kind::invalid_name);
    EXPECT_EQ(names.resolve("a b").type, kind::invalid_name);
    EXPECT_EQ(names.resolve(std::string(200, 'a')).type, kind::ok);
    EXPECT_EQ(names.resolve(std::string(201, 'a')).type, kind::invalid_name);
    EXPECT_EQ(names.resolve(std::string("a\0b", 3)).type, kind::invalid_name);
    EXPECT_EQ(names.resolve("a\nb").type, kind::invalid_name);
}

TEST(ModeNames, DecodedOnceInUrls) {
    const endpoints::mode_names names(pattern, nullptr, "stream:");
    auto r = names.resolve("%41bc");
    EXPECT_EQ(r.type, kind::ok);
    EXPECT_EQ(r.name, "Abc");
    EXPECT_EQ(names.resolve("%2541").type, kind::invalid_name); // "%41" after one decoding
    EXPECT_EQ(names.resolve("ab%").type, kind::invalid_name);
    EXPECT_EQ(names.resolve("a%20b").type, kind::invalid_name);
    EXPECT_EQ(names.resolve("a+b").type, kind::invalid_name); // + is no space in a path
}

TEST(ModeNames, NotDecodedInWebSocketMessages) {
    const endpoints::mode_names names(pattern, nullptr, "stream:");
    EXPECT_EQ(names.resolve("%41bc", false).type, kind::invalid_name);
    EXPECT_EQ(names.resolve("Abc", false).name, "Abc");
}

TEST(ModeNames, SignedWithStreamPurpose) {
    const rpd::tasks::task_signer signer("unit-secret", 8);
    const endpoints::mode_names names(pattern, &signer, "stream:");
    const auto sig = signer.sign("stream:orders");
    auto r = names.resolve("orders." + sig);
    EXPECT_EQ(r.type, kind::ok);
    EXPECT_EQ(r.name, "orders");
    r = names.resolve("orders%2E" + sig); // the dot may come encoded
    EXPECT_EQ(r.type, kind::ok);
    EXPECT_EQ(r.name, "orders");
    r = names.resolve("orders." + sig, false);
    EXPECT_EQ(r.type, kind::ok);
    // Names with dots: the signature is after the last one.
    r = names.resolve("a.b." + signer.sign("stream:a.b"));
    EXPECT_EQ(r.type, kind::ok);
    EXPECT_EQ(r.name, "a.b");
}

TEST(ModeNames, SignatureForAnotherPurposeFails) {
    const rpd::tasks::task_signer signer("unit-secret", 8);
    const endpoints::mode_names names(pattern, &signer, "stream:");
    EXPECT_EQ(names.resolve("orders." + signer.sign("queue:orders")).type, kind::invalid_signature);
    EXPECT_EQ(names.resolve("orders." + signer.sign("mailbox:orders")).type,
              kind::invalid_signature);
    EXPECT_EQ(names.resolve("orders." + signer.sign("orders")).type,
              kind::invalid_signature); // a task id's signature
    EXPECT_EQ(names.resolve("orders." + signer.sign("publish:orders")).type,
              kind::invalid_signature);
    EXPECT_EQ(names.resolve("other." + signer.sign("stream:orders")).type, kind::invalid_signature);
}

TEST(ModeNames, SignatureMissingOrWrong) {
    const rpd::tasks::task_signer signer("unit-secret", 8);
    const endpoints::mode_names names(pattern, &signer, "stream:");
    EXPECT_EQ(names.resolve("orders").type, kind::invalid_signature);
    EXPECT_EQ(names.resolve("orders.").type, kind::invalid_signature);
    EXPECT_EQ(names.resolve("orders.AAAAAAAAAAA").type, kind::invalid_signature);
    const rpd::tasks::task_signer other("other-secret", 8);
    EXPECT_EQ(names.resolve("orders." + other.sign("stream:orders")).type, kind::invalid_signature);
    // A bad name is a bad name, signed or not.
    EXPECT_EQ(names.resolve("a b." + signer.sign("stream:a b")).type, kind::invalid_name);
}

// ---- keyspace_events::completed (MODES.md 6 "Keyspace events") ----------------------------

using rpd::redis::keyspace_events;

TEST(KeyspaceEvents, EmptyGetsKeyspaceAndClass) {
    EXPECT_EQ(keyspace_events::completed("", "t"), "Kt");
    EXPECT_EQ(keyspace_events::completed("", ""), "K");
    EXPECT_EQ(keyspace_events::completed("", "tl"), "Ktl");
}

TEST(KeyspaceEvents, AllClassesCovered) {
    EXPECT_EQ(keyspace_events::completed("A", "t"), "AK");
    EXPECT_EQ(keyspace_events::completed("KEA", "tl"), "KEA");
    EXPECT_EQ(keyspace_events::completed("AE", "t"), "AEK");
}

TEST(KeyspaceEvents, ExistingFlagsKept) {
    EXPECT_EQ(keyspace_events::completed("Kt", "t"), "Kt");
    EXPECT_EQ(keyspace_events::completed("Ex", "t"), "ExKt");
    EXPECT_EQ(keyspace_events::completed("Kl", "tl"), "Klt");
    EXPECT_EQ(keyspace_events::completed("g$", "t"), "g$Kt");
}

TEST(KeyspaceEvents, CompletedIsAFixedPoint) {
    for (const char* current : {"", "A", "E", "Kt", "gxE", "KEA"}) {
        const auto once = keyspace_events::completed(current, "t");
        EXPECT_EQ(keyspace_events::completed(once, "t"), once) << current;
    }
}

} // namespace
