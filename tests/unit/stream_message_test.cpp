// Unit tests of what the stream mode makes of Redis's answers and of a
// publish body (MODES.md 3, 6): streams::render_message, parse_entry,
// parse_entries, publish_fields, parse_stream_info and is_gap ("Gap,
// exactly"). Replies are hiredis structs built by hand.
#include "redis_push/redis/reply.hpp"
#include "redis_push/streams/stream_info.hpp"
#include "redis_push/streams/stream_message.hpp"

#include <hiredis/hiredis.h>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace {

using rpd::redis::reply;
using rpd::streams::stream_id;
using rpd::streams::stream_info;
namespace streams = rpd::streams;
using json = nlohmann::json;

// Builds redisReply trees the way hiredis lays them out; owns everything.
class replies {
public:
    redisReply* string(std::string_view s) {
        texts_.emplace_back(s);
        redisReply* r = make(REDIS_REPLY_STRING);
        r->str = texts_.back().data();
        r->len = texts_.back().size();
        return r;
    }
    redisReply* nil() { return make(REDIS_REPLY_NIL); }
    redisReply* integer(long long n) {
        redisReply* r = make(REDIS_REPLY_INTEGER);
        r->integer = n;
        return r;
    }
    redisReply* array(std::vector<redisReply*> elements) {
        arrays_.push_back(std::move(elements));
        redisReply* r = make(REDIS_REPLY_ARRAY);
        r->element = arrays_.back().data();
        r->elements = arrays_.back().size();
        return r;
    }
    redisReply* strings(std::vector<std::string_view> values) {
        std::vector<redisReply*> e;
        for (const auto v : values)
            e.push_back(string(v));
        return array(std::move(e));
    }

private:
    redisReply* make(int type) {
        nodes_.emplace_back();
        nodes_.back().type = type;
        return &nodes_.back();
    }
    std::deque<redisReply> nodes_;
    std::deque<std::string> texts_;
    std::deque<std::vector<redisReply*>> arrays_;
};

std::string render(std::string_view offset, std::vector<std::string_view> fields) {
    replies b;
    return streams::render_message(offset, reply(b.strings(std::move(fields))));
}

// ---- render_message ------------------------------------------------------------------------

TEST(RenderMessage, OffsetFirstThenFields) {
    EXPECT_EQ(render("1-0", {}), R"({"offset":"1-0"})");
    EXPECT_EQ(render("1-2", {"a", "x"}), R"({"offset":"1-2","a":"x"})");
}

TEST(RenderMessage, JsonValuesAreEmbeddedCompacted) {
    EXPECT_EQ(render("1-0", {"n", "42", "f", "1.5", "t", "true", "z", "null", "o",
                             R"({ "k" : [1, 2, {"x": "y"}] })", "s", R"("quoted")", "w", " 7 "}),
              R"({"offset":"1-0","n":42,"f":1.5,"t":true,"z":null,"o":{"k":[1,2,{"x":"y"}]},)"
              R"("s":"quoted","w":7})");
}

TEST(RenderMessage, NonJsonValuesAreStrings) {
    EXPECT_EQ(render("1-0", {"a", "hello", "b", "", "c", "1 2", "d", "{", "e", "tru", "f", "[1,]",
                             "g", "\"open", "h", "NaN", "i", "01"}),
              R"({"offset":"1-0","a":"hello","b":"","c":"1 2","d":"{","e":"tru","f":"[1,]",)"
              R"("g":"\"open","h":"NaN","i":"01"})");
}

// The fast paths (plain integers, plain ASCII strings, values that cannot
// be JSON) render exactly what the JSON parser would.
TEST(RenderMessage, FastPathsRenderAsTheParserWould) {
    for (const std::string v : {"0",
                                "-1",
                                "42",
                                "-0",
                                "007",
                                "123456789012345678",
                                "1234567890123456789",
                                "12345678901234567890",
                                "-9223372036854775808",
                                "1e3",
                                "1.50",
                                " 5",
                                "5 ",
                                "true ",
                                "nul",
                                "falsey",
                                "user-17",
                                "a/b",
                                "caf\xc3\xa9",
                                "x\x7fy",
                                "-",
                                "--1",
                                "+1"}) {
        const auto out = render("1-0", {"v", v});
        const auto parsed = json::parse(v, nullptr, false);
        const auto want = parsed.is_discarded() ? json(v) : parsed;
        EXPECT_EQ(out, "{\"offset\":\"1-0\",\"v\":" +
                           want.dump(-1, ' ', false, json::error_handler_t::replace) + "}")
            << v;
    }
}

TEST(RenderMessage, SpecialCharactersAreEscaped) {
    const auto out = render("1-0", {"quo\"te", "line\nbreak\ttab\x01", "back\\slash", "\x7f"});
    const auto j = json::parse(out);
    EXPECT_EQ(j["quo\"te"], "line\nbreak\ttab\x01");
    EXPECT_EQ(j["back\\slash"], "\x7f");
    EXPECT_EQ(out.find('\n'), std::string::npos);
}

TEST(RenderMessage, InvalidUtf8IsReplacedNeverThrown) {
    std::string out;
    ASSERT_NO_THROW(out = render("1-0", {"v", "ok\xff\xfe", "bad\xc3", "x", "\xed\xa0\x80", "y"}));
    const auto j = json::parse(out); // valid UTF-8 JSON
    EXPECT_EQ(j["v"], "ok\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(j.size(), 4u); // offset and three fields
    EXPECT_TRUE(j.contains("bad\xEF\xBF\xBD"));
}

TEST(RenderMessage, InvalidUtf8InsideAJsonLookingValueIsAString) {
    const auto out = render("1-0", {"v", "\"\xff\""});
    const auto j = json::parse(out);
    EXPECT_EQ(j["v"], "\"\xEF\xBF\xBD\"");
}

TEST(RenderMessage, FieldNamedOffsetIsDropped) {
    EXPECT_EQ(render("5-1", {"offset", "999-0", "a", "1"}), R"({"offset":"5-1","a":1})");
    EXPECT_EQ(render("5-1", {"a", "1", "offset", "\"x\""}), R"({"offset":"5-1","a":1})");
    // Only that exact name.
    EXPECT_EQ(render("5-1", {"Offset", "1", "offset ", "2"}),
              R"({"offset":"5-1","Offset":1,"offset ":2})");
}

TEST(RenderMessage, DuplicateFieldsAreKeptInOrder) {
    // Redis keeps both; the rendering says both, in order (a JSON reader
    // keeps the last).
    const auto out = render("1-0", {"a", "1", "a", "2"});
    EXPECT_EQ(out, R"({"offset":"1-0","a":1,"a":2})");
    EXPECT_EQ(json::parse(out)["a"], 2);
}

TEST(RenderMessage, OddFieldCountIgnoresTheDanglingName) {
    EXPECT_EQ(render("1-0", {"a", "1", "b"}), R"({"offset":"1-0","a":1})");
}

TEST(RenderMessage, DeeplyNestedValueStaysValid) {
    const std::string deep = std::string(500, '[') + std::string(500, ']');
    const auto out = render("1-0", {"d", deep});
    EXPECT_EQ(out, R"({"offset":"1-0","d":)" + deep + "}");
}

// A producer's value nested 200000 levels deep (2 * 200000 bytes; Redis
// values may be 512 MB) must come out as something, not overflow the stack
// (nlohmann's serializer recurses): too deep a value is a string.
TEST(RenderMessage, VeryDeeplyNestedValueDoesNotOverflowTheStack) {
    const std::string deep = std::string(200000, '[') + std::string(200000, ']');
    const auto out = render("1-0", {"d", deep});
    EXPECT_TRUE(json::accept(out));
}

// A value that is JSON followed by a NUL byte and more is not JSON: it must
// come as a string, byte for byte (MODES.md 3: "decoded as JSON when it is
// valid JSON, else a JSON string"); nlohmann's lexer would take the NUL for
// the end of the input.
TEST(RenderMessage, ValueWithANulByteIsAString) {
    const std::string value("1\0tail", 6);
    const auto out = render("1-0", {"v", value});
    const auto j = json::parse(out);
    EXPECT_EQ(j["v"], value) << out;
}

// ---- parse_entry / parse_entries --------------------------------------------------------

TEST(ParseEntry, IdAndFields) {
    replies b;
    const auto m = streams::parse_entry(reply(b.array({b.string("7-3"), b.strings({"a", "1"})})));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->id, (stream_id{7, 3}));
    EXPECT_EQ(m->offset, "7-3");
    EXPECT_EQ(m->json, R"({"offset":"7-3","a":1})");
}

TEST(ParseEntry, OtherShapesAreRefused) {
    replies b;
    EXPECT_FALSE(streams::parse_entry(reply(b.string("7-3"))));
    EXPECT_FALSE(streams::parse_entry(reply(b.array({b.string("7-3")}))));
    EXPECT_FALSE(streams::parse_entry(reply(b.array({b.string("7-3"), b.nil()})))); // deleted
    EXPECT_FALSE(streams::parse_entry(reply(b.array({b.string("x"), b.strings({"a", "1"})}))));
    EXPECT_FALSE(streams::parse_entry(reply(b.array({b.integer(7), b.strings({"a", "1"})}))));
    EXPECT_FALSE(streams::parse_entry(
        reply(b.array({b.string("7-3"), b.strings({"a", "1"}), b.string("extra")}))));
}

TEST(ParseEntries, SkipsBadEntriesKeepsOrder) {
    replies b;
    const auto batch = streams::parse_entries(reply(b.array({
        b.array({b.string("1-0"), b.strings({"a", "1"})}),
        b.array({b.string("2-0"), b.nil()}),
        b.array({b.string("3-0"), b.strings({"b", "x"})}),
    })));
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(batch[0].offset, "1-0");
    EXPECT_EQ(batch[1].offset, "3-0");
    EXPECT_EQ(batch[1].json, R"({"offset":"3-0","b":"x"})");
}

// ---- publish_fields ----------------------------------------------------------------------

TEST(PublishFields, ObjectOnly) {
    for (const char* body : {"", "[]", "[1]", "1", "\"s\"", "null", "true", "{", "{\"a\":1",
                             "{\"a\":1} x", "{\"a\":1}{}", "\xff", "{'a':1}"})
        EXPECT_FALSE(streams::publish_fields(body)) << body;
}

TEST(PublishFields, StringsAsTheyAreOthersJsonEncoded) {
    const auto f = streams::publish_fields(
        R"({"s":"text","q":"\"quoted\"","n":42,"neg":-3,"f":1.5,"t":true,"z":null,)"
        R"("a":[1,"x"],"o":{"k":{"x":1}},"u":"\u00e9"})");
    ASSERT_TRUE(f);
    const streams::field_list expected{
        {"a", R"([1,"x"])"},       {"f", "1.5"},         {"n", "42"},   {"neg", "-3"},
        {"o", R"({"k":{"x":1}})"}, {"q", R"("quoted")"}, {"s", "text"}, {"t", "true"},
        {"u", "\xc3\xa9"},         {"z", "null"}};
    // (nlohmann orders members by name)
    EXPECT_EQ(*f, expected);
}

TEST(PublishFields, OffsetMemberIsKept) {
    const auto f = streams::publish_fields(R"({"offset":"x","a":1})");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->size(), 2u);
}

TEST(PublishFields, EmptyObjectIsNotAMessage) {
    // XADD needs at least one field: an empty object cannot be stored, and
    // is the client's error (400 Invalid message), not Redis's.
    EXPECT_FALSE(streams::publish_fields("{}"));
}

TEST(PublishFields, RoundTripsThroughRenderMessage) {
    const auto f = streams::publish_fields(R"({"a":{"b":[1,2]},"s":"plain","n":7})");
    ASSERT_TRUE(f);
    replies b;
    std::vector<std::string_view> flat;
    for (const auto& [k, v] : *f) {
        flat.push_back(k);
        flat.push_back(v);
    }
    EXPECT_EQ(json::parse(render("1-0", flat)),
              json::parse(R"({"offset":"1-0","a":{"b":[1,2]},"s":"plain","n":7})"));
}

// ---- parse_stream_info ----------------------------------------------------------------------

redisReply* xinfo(replies& b, long long length, long long added, std::string_view last,
                  std::string_view max_deleted, std::string_view first /* "" = nil */) {
    return b.array({b.string("length"), b.integer(length), b.string("radix-tree-keys"),
                    b.integer(1), b.string("last-generated-id"), b.string(last),
                    b.string("max-deleted-entry-id"), b.string(max_deleted),
                    b.string("entries-added"), b.integer(added),
                    b.string("recorded-first-entry-id"), b.string(first.empty() ? "0-0" : first),
                    b.string("groups"), b.integer(0), b.string("first-entry"),
                    first.empty() ? b.nil() : b.array({b.string(first), b.strings({"a", "1"})}),
                    b.string("last-entry"),
                    first.empty() ? b.nil() : b.array({b.string(last), b.strings({"a", "1"})})});
}

TEST(StreamInfo, ParsesXinfoStream) {
    replies b;
    const auto info = streams::parse_stream_info(reply(xinfo(b, 3, 10, "10-0", "2-0", "8-0")));
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->exists);
    EXPECT_EQ(info->length, 3u);
    EXPECT_EQ(info->entries_added, 10u);
    EXPECT_EQ(info->last_generated, (stream_id{10, 0}));
    EXPECT_EQ(info->max_deleted, (stream_id{2, 0}));
    ASSERT_TRUE(info->first_entry);
    EXPECT_EQ(*info->first_entry, (stream_id{8, 0}));
}

TEST(StreamInfo, EmptyStreamHasNoFirstEntry) {
    replies b;
    const auto info = streams::parse_stream_info(reply(xinfo(b, 0, 4, "4-0", "0-0", "")));
    ASSERT_TRUE(info);
    EXPECT_FALSE(info->first_entry);
    EXPECT_EQ(info->last_generated, (stream_id{4, 0}));
}

TEST(StreamInfo, NotAnArrayIsRefused) {
    replies b;
    EXPECT_FALSE(streams::parse_stream_info(reply(b.string("x"))));
    EXPECT_FALSE(streams::parse_stream_info(reply(b.nil())));
    EXPECT_FALSE(streams::parse_stream_info(reply()));
}

// ---- is_gap: MODES.md 6 "Gap, exactly" ------------------------------------------------------

stream_info info_of(std::uint64_t length, std::uint64_t added, std::optional<stream_id> first,
                    stream_id max_deleted = {}) {
    stream_info i;
    i.exists = true;
    i.length = length;
    i.entries_added = added;
    i.first_entry = first;
    i.max_deleted = max_deleted;
    i.last_generated = {added, 0};
    return i;
}

TEST(IsGap, OlderThanFirstEntryWhileTrimmed) {
    // 10 added, 3 left (8, 9, 10): MAXLEN trimmed 1..7.
    const auto i = info_of(3, 10, stream_id{8, 0});
    EXPECT_TRUE(streams::is_gap({5, 0}, i));
    EXPECT_TRUE(streams::is_gap({7, 0}, i)); // exactly the last removed: allowed to be a gap
    EXPECT_TRUE(streams::is_gap({7, 99}, i));
    EXPECT_FALSE(streams::is_gap({8, 0}, i)); // the first entry itself: nothing after it removed
    EXPECT_FALSE(streams::is_gap({9, 0}, i));
    EXPECT_FALSE(streams::is_gap({100, 0}, i));
}

TEST(IsGap, OlderThanFirstEntryWithoutTrimmingIsNoGap) {
    // Explicit ids starting at 8: nothing was ever removed.
    const auto i = info_of(3, 3, stream_id{8, 0});
    EXPECT_FALSE(streams::is_gap({5, 0}, i));
    EXPECT_FALSE(streams::is_gap({1, 0}, i));
}

TEST(IsGap, OlderThanMaxDeletedEntry) {
    // 1..5 added, 3 XDELeted: max-deleted 3-0, nothing trimmed.
    const auto i = info_of(4, 5, stream_id{1, 0}, stream_id{3, 0});
    EXPECT_TRUE(streams::is_gap({1, 0}, i));
    EXPECT_TRUE(streams::is_gap({2, 0}, i));
    EXPECT_TRUE(streams::is_gap({2, 5}, i));
    EXPECT_FALSE(streams::is_gap({3, 0}, i)); // the deleted one itself: nothing after it missing
    EXPECT_FALSE(streams::is_gap({4, 0}, i));
}

TEST(IsGap, AfterZeroIsNeverAGap) {
    EXPECT_FALSE(streams::is_gap({0, 0}, info_of(3, 10, stream_id{8, 0})));
    EXPECT_FALSE(streams::is_gap({0, 0}, info_of(4, 5, stream_id{1, 0}, stream_id{3, 0})));
    EXPECT_FALSE(streams::is_gap({0, 0}, info_of(0, 10, std::nullopt, stream_id{10, 0})));
}

TEST(IsGap, MissingStreamIsNoGap) {
    EXPECT_FALSE(streams::is_gap({5, 0}, stream_info{}));
}

// A stream trimmed to nothing (XTRIM MAXLEN 0 after 10 entries) has no first
// entry, but entries after the offset were removed: a gap ("a gap when
// entries after it were removed"), signalled with the next message to come.
TEST(IsGap, StreamTrimmedToNothingIsAGap) {
    auto i = info_of(0, 10, std::nullopt);
    i.last_generated = {10, 0};
    EXPECT_TRUE(streams::is_gap({5, 0}, i));
    EXPECT_FALSE(streams::is_gap({10, 0}, i));
}

TEST(IsGap, ZeroSeqBelowFirstEntryOfSameMs) {
    const auto i = info_of(2, 4, stream_id{8, 2});
    EXPECT_TRUE(streams::is_gap({8, 1}, i));
    EXPECT_FALSE(streams::is_gap({8, 2}, i));
}

} // namespace
