// Unit tests of the channel message and data value rules (spec sections 1
// and 2, "Watch").

#include "redis_push/tasks/message.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using rpd::tasks::channel_message;
using rpd::tasks::classify_message;
using rpd::tasks::inspect_value;
using rpd::tasks::kill_message;
using kind = channel_message::kind;

const char* name(kind k) {
    switch (k) {
    case kind::ignore:
        return "ignore";
    case kind::deliver:
        return "deliver";
    case kind::reread:
        return "reread";
    case kind::kill:
        return "kill";
    }
    return "?";
}

void expect_kind(std::string_view payload, kind expected) {
    const channel_message m = classify_message(payload);
    EXPECT_EQ(m.type, expected) << payload << " -> " << name(m.type);
    if (expected != kind::kill) {
        EXPECT_FALSE(m.has_src) << payload;
        EXPECT_EQ(m.src, "") << payload;
    }
}

// ---- update / done -----------------------------------------------------------------

// nlohmann's lexer stops at a NUL byte; what follows must not be ignored.
TEST(ClassifyMessage, NulByteMakesAMessageInvalid) {
    using namespace std::string_view_literals;
    EXPECT_EQ(classify_message("{\"status\":\"done\",\"data\":1}\0tail"sv).type,
              channel_message::kind::ignore);
    EXPECT_FALSE(inspect_value("{\"status\":\"done\"}\0<script>"sv).valid_json);
    EXPECT_TRUE(inspect_value("{\"status\":\"done\"}"sv).valid_json);
}

TEST(ClassifyMessage, UpdateWithDataDelivers) {
    expect_kind(R"({"status":"update","data":{"progress":50}})", kind::deliver);
    expect_kind(R"({"status":"update","data":1})", kind::deliver);
    expect_kind(R"({"status":"update","data":"x"})", kind::deliver);
    expect_kind(R"({"status":"update","data":false})", kind::deliver);
    expect_kind(R"({"status":"update","data":[]})", kind::deliver);
    expect_kind(R"({"status":"update","data":{}})", kind::deliver);
}

TEST(ClassifyMessage, DoneWithDataDelivers) {
    expect_kind(R"({"status":"done","data":{"result":"ok"}})", kind::deliver);
    expect_kind(R"({"data":0,"status":"done"})", kind::deliver);
}

TEST(ClassifyMessage, NullDataMeansReread) {
    expect_kind(R"({"status":"update","data":null})", kind::reread);
    expect_kind(R"({"status":"done","data":null})", kind::reread);
}

TEST(ClassifyMessage, WithoutDataMeansReread) {
    expect_kind(R"({"status":"update"})", kind::reread);
    expect_kind(R"({"status":"done"})", kind::reread);
    expect_kind(R"({"status":"done","progress":100})", kind::reread);
    expect_kind(" \n{\"status\" : \"update\"}\n ", kind::reread);
}

// ---- kill ------------------------------------------------------------------------------

TEST(ClassifyMessage, KillWithSource) {
    const auto m =
        classify_message(R"({"status":"kill","src":"123e4567-e89b-12d3-a456-426614174000"})");
    EXPECT_EQ(m.type, kind::kill);
    EXPECT_TRUE(m.has_src);
    EXPECT_EQ(m.src, "123e4567-e89b-12d3-a456-426614174000");
}

TEST(ClassifyMessage, KillWithEmptySource) {
    const auto m = classify_message(R"({"status":"kill","src":""})");
    EXPECT_EQ(m.type, kind::kill);
    EXPECT_TRUE(m.has_src);
    EXPECT_EQ(m.src, "");
}

TEST(ClassifyMessage, KillWithoutSource) {
    const auto m = classify_message(R"({"status":"kill"})");
    EXPECT_EQ(m.type, kind::kill);
    EXPECT_FALSE(m.has_src);
    EXPECT_EQ(m.src, "");
}

TEST(ClassifyMessage, KillWithNonStringSource) {
    for (const char* payload :
         {R"({"status":"kill","src":42})", R"({"status":"kill","src":null})",
          R"({"status":"kill","src":["a"]})", R"({"status":"kill","src":{"id":"a"}})"}) {
        const auto m = classify_message(payload);
        EXPECT_EQ(m.type, kind::kill) << payload;
        EXPECT_FALSE(m.has_src) << payload;
        EXPECT_EQ(m.src, "") << payload;
    }
}

TEST(ClassifyMessage, KillIgnoresData) {
    const auto m = classify_message(R"({"status":"kill","src":"u","data":{"x":1}})");
    EXPECT_EQ(m.type, kind::kill);
    EXPECT_EQ(m.src, "u");
}

TEST(ClassifyMessage, OwnKillMessageRoundTrips) {
    const std::string uuid = "0e5c2b8a-1d3f-4a6b-9c7d-2f1e0a9b8c7d";
    const auto m = classify_message(kill_message(uuid));
    EXPECT_EQ(m.type, kind::kill);
    EXPECT_TRUE(m.has_src);
    EXPECT_EQ(m.src, uuid);
}

// ---- ignored -----------------------------------------------------------------------------

TEST(ClassifyMessage, OtherStatusIgnored) {
    expect_kind(R"({"status":"pending"})", kind::ignore);
    expect_kind(R"({"status":"Update"})", kind::ignore);
    expect_kind(R"({"status":"DONE","data":1})", kind::ignore);
    expect_kind(R"({"status":"","data":1})", kind::ignore);
    expect_kind(R"({"status":"killed","src":"x"})", kind::ignore);
    expect_kind(R"({"status":"update "})", kind::ignore);
}

TEST(ClassifyMessage, NonStringStatusIgnored) {
    expect_kind(R"({"status":1})", kind::ignore);
    expect_kind(R"({"status":null,"data":1})", kind::ignore);
    expect_kind(R"({"status":["update"]})", kind::ignore);
    expect_kind(R"({"status":{"status":"done"}})", kind::ignore);
    expect_kind(R"({"status":true})", kind::ignore);
}

TEST(ClassifyMessage, NoStatusIgnored) {
    expect_kind(R"({})", kind::ignore);
    expect_kind(R"({"data":{"status":"done"}})", kind::ignore);
    expect_kind(R"({"Status":"done"})", kind::ignore);
}

TEST(ClassifyMessage, NotJsonIgnored) {
    expect_kind("", kind::ignore);
    expect_kind("update", kind::ignore);
    expect_kind("done", kind::ignore);
    expect_kind(R"({"status":"update")", kind::ignore);
    expect_kind(R"({"status":"update"} trailing)", kind::ignore);
    expect_kind(R"({'status':'update'})", kind::ignore);
    expect_kind("\xff\xfe", kind::ignore);
}

TEST(ClassifyMessage, JsonArrayIgnored) {
    expect_kind(R"([{"status":"update"}])", kind::ignore);
    expect_kind("[]", kind::ignore);
}

TEST(ClassifyMessage, JsonScalarsIgnored) {
    expect_kind(R"("update")", kind::ignore);
    expect_kind(R"("{\"status\":\"done\"}")", kind::ignore);
    expect_kind("42", kind::ignore);
    expect_kind("null", kind::ignore);
    expect_kind("true", kind::ignore);
}

// ---- inspect_value ---------------------------------------------------------------------

TEST(InspectValue, DoneObject) {
    const auto info = inspect_value(R"({"status":"done","result":[1,2,3]})");
    EXPECT_TRUE(info.valid_json);
    EXPECT_TRUE(info.done);
}

TEST(InspectValue, NotDoneObjects) {
    for (const char* value : {R"({"status":"pending"})", R"({"status":"update"})",
                              R"({"status":"DONE"})", R"({"status":"done "})", R"({"status":1})",
                              R"({"status":null})", R"({"status":["done"]})", R"({})",
                              R"({"result":"done"})", R"({"data":{"status":"done"}})"}) {
        const auto info = inspect_value(value);
        EXPECT_TRUE(info.valid_json) << value;
        EXPECT_FALSE(info.done) << value;
    }
}

TEST(InspectValue, ArraysAndScalarsAreValidButNotDone) {
    for (const char* value : {R"([{"status":"done"}])", "[]", R"("done")", "1", "null", "false",
                              R"("{\"status\":\"done\"}")"}) {
        const auto info = inspect_value(value);
        EXPECT_TRUE(info.valid_json) << value;
        EXPECT_FALSE(info.done) << value;
    }
}

TEST(InspectValue, InvalidJson) {
    for (const char* value : {"", "done", "{", R"({"status":"done")", R"({"status":"done"} x)",
                              "{status:done}", "\xff"}) {
        const auto info = inspect_value(value);
        EXPECT_FALSE(info.valid_json) << value;
        EXPECT_FALSE(info.done) << value;
    }
}

TEST(InspectValue, SurroundingWhitespaceIsFine) {
    const auto info = inspect_value(" \r\n\t{\"status\":\"done\"}\n");
    EXPECT_TRUE(info.valid_json);
    EXPECT_TRUE(info.done);
}

// ---- kill_message ---------------------------------------------------------------------

TEST(KillMessage, ExactText) {
    EXPECT_EQ(kill_message("123e4567-e89b-12d3-a456-426614174000"),
              R"({"status":"kill","src":"123e4567-e89b-12d3-a456-426614174000"})");
}

TEST(KillMessage, EmptyUuid) {
    EXPECT_EQ(kill_message(""), R"({"status":"kill","src":""})");
}

} // namespace

// Only top-level members count, as in a parsed document; the reader must
// not be fooled by the same names deeper down or by repeated keys.
TEST(MessageTopLevel, NestedMembersDoNotCount) {
    EXPECT_EQ(classify_message(R"({"x":{"status":"done"}})").type, kind::ignore);
    EXPECT_EQ(classify_message(R"({"status":"update","x":{"data":1}})").type, kind::reread);
    EXPECT_EQ(classify_message(R"({"status":"update","data":{"status":"kill"}})").type,
              kind::deliver);
    EXPECT_FALSE(inspect_value(R"({"a":{"status":"done"}})").done);
    EXPECT_FALSE(inspect_value(R"([{"status":"done"}])").done);
}

TEST(MessageTopLevel, RepeatedKeyTakesTheLastValue) {
    EXPECT_EQ(classify_message(R"({"status":"update","status":"kill"})").type, kind::kill);
    EXPECT_EQ(classify_message(R"({"status":"done","status":1})").type, kind::ignore);
    EXPECT_EQ(classify_message(R"({"status":"done","data":1,"data":null})").type, kind::reread);
    EXPECT_TRUE(inspect_value(R"({"status":"x","status":"done"})").done);
}

TEST(MessageTopLevel, AnyNonNullDataDelivers) {
    for (const char* data : {"false", "0", "\"\"", "{}", "[]", "[null]"})
        EXPECT_EQ(classify_message(std::string(R"({"status":"done","data":)") + data + "}").type,
                  kind::deliver)
            << data;
}

TEST(MessageTopLevel, TrailingGarbageIsNotJson) {
    EXPECT_FALSE(inspect_value(R"({"status":"done"} x)").valid_json);
    EXPECT_EQ(classify_message(R"({"status":"done"}})").type, kind::ignore);
    EXPECT_TRUE(inspect_value(" \n{\"status\":\"done\"}\n ").done);
}

TEST(MessageTopLevel, KillSrcMustBeAString) {
    const auto m = classify_message(R"({"status":"kill","src":{"id":"a"}})");
    EXPECT_EQ(m.type, kind::kill);
    EXPECT_FALSE(m.has_src);
    const auto n = classify_message(R"({"src":"abc","status":"kill"})");
    EXPECT_TRUE(n.has_src);
    EXPECT_EQ(n.src, "abc");
}
