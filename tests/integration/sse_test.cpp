// Tasks over SSE (MODES.md 3 and 6, "Tasks over SSE"; the sse.* keys of 5
// and 6): `GET /task/<id>?watch` with `Accept: text/event-stream`.
//
// What the tests hold the daemon to, beyond the spec's own words (decided
// with the HTTP layer's author):
// - the stream: 200, Content-Type text/event-stream, Cache-Control
//   no-store, X-Accel-Buffering no; chunked for HTTP/1.1, close-delimited
//   with Connection: close for HTTP/1.0;
// - the body: `retry: <sse.retry_ms>\n\n`, then `event: update\ndata:
//   <current value>\n\n`, then one event per later state, `event: update` or
//   `event: done` (the message's status), data = what a watch would answer;
//   a value's line breaks (LF, CR LF, CR) become separate `data:` lines; no
//   `id:` lines; after `done` the response ends and the connection stays
//   usable;
// - `:\n` every sse.keepalive_seconds (0: none);
// - kill, watch.timeout_seconds and shutdown: `event: error` with the error
//   object as data, then the response ends;
// - before the watch is established, the watch's own JSON answers (404,
//   502, an already done value);
// - an Accept without text/event-stream is the classic watch; HEAD is a poll.
#include <csignal>

#include "common.hpp"
#include "sse.hpp"

using namespace rpd::test;

namespace {

const std::string kKilled = "Killed due to another concurrent request for this task";

std::string normalize_breaks(std::string_view v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\r') {
            out += '\n';
            if (i + 1 < v.size() && v[i + 1] == '\n')
                ++i;
        } else {
            out += v[i];
        }
    }
    return out;
}

// The exact bytes of one task event.
std::string event_bytes(const std::string& type, std::string_view value) {
    return "event: " + type + "\n" + sse_data_lines(value) + "\n";
}

::testing::AssertionResult framing_ok(const sse_watch& w) {
    const auto p = w.parsed();
    if (p.error.empty())
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "not the promised framing: " << w.describe();
}

::testing::AssertionResult no_id_lines(const sse_watch& w) {
    for (auto& u : w.parsed().units)
        if (u.field_count("id") != 0)
            return ::testing::AssertionFailure()
                   << "a task event carries an id: line: `" << visible(u.raw) << "`";
    return ::testing::AssertionSuccess();
}

// The stream ended with exactly this event and nothing after it.
::testing::AssertionResult ended_with(const sse_watch& w, const std::string& type,
                                      const std::string& data) {
    const auto p = w.parsed();
    if (!p.error.empty())
        return ::testing::AssertionFailure() << w.describe();
    if (p.units.empty() || !p.units.back().is_event())
        return ::testing::AssertionFailure() << "the last unit is not an event: " << w.describe();
    const auto& last = p.units.back();
    if (last.event() != type || last.data() != data)
        return ::testing::AssertionFailure()
               << "last event is `" << visible(last.raw) << "`, expected type `" << type
               << "` with data `" << visible(data) << "`";
    if (!p.rest.empty())
        return ::testing::AssertionFailure()
               << "bytes after the last event: `" << visible(p.rest) << "`";
    return ::testing::AssertionSuccess();
}

class Sse : public daemon_test {};

// ------------------------------------------------------------ the stream

TEST_F(Sse, HeadFieldsThenRetryThenTheCurrentValue) {
    const std::string value = R"({"status":"running","pct":10})";
    cli().set(data_key("h1"), value);
    sse_watch w(port(), "h1");
    ASSERT_TRUE(w.wait_stream()) << w.describe();
    const auto& r = w.response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type").value_or(""), "text/event-stream");
    EXPECT_TRUE(has_no_store(r));
    EXPECT_TRUE(has_x_accel_no(r));
    EXPECT_TRUE(r.chunked) << "an HTTP/1.1 event stream is chunked";
    EXPECT_FALSE(r.has_header("Content-Length"));

    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    EXPECT_EQ(w.body(), "retry: 3000\n\n" + event_bytes("update", value))
        << "retry first (sse.retry_ms default 3000), then the current value as `update`; got:\n"
        << visible(w.body());
    EXPECT_TRUE(framing_ok(w));
    const auto units = w.parsed().units;
    ASSERT_GE(units.size(), 2u);
    EXPECT_EQ(units[0].fields.size(), 1u) << "the retry block holds retry: only";
    EXPECT_EQ(units[0].field("retry").value_or(""), "3000");
    EXPECT_FALSE(w.conn().body_complete()) << "the stream ended after its first event";
    EXPECT_EQ(cli().numsub(channel("h1")), 1);
}

TEST_F(Sse, UpdateThroughTheDataKey) {
    cli().set(data_key("u1"), R"({"status":"running","pct":10})");
    sse_watch w(port(), "u1");
    ASSERT_TRUE(w.wait_stream()) << w.describe();
    ASSERT_TRUE(w.wait_events(1)) << w.describe();

    // Odd spacing on purpose: the value is sent as stored, not re-serialised.
    const std::string next = R"({"status":"running",   "pct":55})";
    cli().set(data_key("u1"), next);
    EXPECT_GE(cli().publish(channel("u1"), R"({"status":"update"})"), 1);
    ASSERT_TRUE(w.wait_events(2)) << w.describe();
    auto evs = w.events();
    EXPECT_EQ(evs[1].raw, event_bytes("update", next));

    // The stream goes on: a second update arrives on the same response.
    const std::string third = R"({"status":"running","pct":90})";
    cli().set(data_key("u1"), third);
    cli().publish(channel("u1"), R"({"status":"update"})");
    ASSERT_TRUE(w.wait_events(3)) << w.describe();
    evs = w.events();
    EXPECT_EQ(evs[2].raw, event_bytes("update", third));
    EXPECT_FALSE(w.conn().body_complete());
    EXPECT_TRUE(framing_ok(w));
    EXPECT_TRUE(no_id_lines(w));
}

TEST_F(Sse, UpdateWithDataIsTheMessageVerbatim) {
    cli().set(data_key("u2"), R"({"status":"running"})");
    sse_watch w(port(), "u2");
    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    // The key holds something else: the message itself is the data, unparsed.
    const std::string msg = R"({ "status" : "update", "data": {"b":2, "a":1.0} ,"x":"\u00e9"})";
    cli().publish(channel("u2"), msg);
    ASSERT_TRUE(w.wait_events(2)) << w.describe();
    EXPECT_EQ(w.events()[1].raw, event_bytes("update", msg));
    // A falsy but non-null data is still data.
    const std::string zero = R"({"status":"update","data":0})";
    cli().publish(channel("u2"), zero);
    ASSERT_TRUE(w.wait_events(3)) << w.describe();
    EXPECT_EQ(w.events()[2].raw, event_bytes("update", zero));
    EXPECT_FALSE(w.conn().body_complete());
}

TEST_F(Sse, DataNullReadsTheKey) {
    cli().set(data_key("u3"), R"({"status":"running"})");
    sse_watch w(port(), "u3");
    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    const std::string next = R"({"status":"running","from":"key"})";
    cli().set(data_key("u3"), next);
    cli().publish(channel("u3"), R"({"status":"update","data":null})");
    ASSERT_TRUE(w.wait_events(2)) << w.describe();
    EXPECT_EQ(w.events()[1].raw, event_bytes("update", next));
}

TEST_F(Sse, OtherMessagesAreIgnored) {
    cli().set(data_key("o1"), R"({"status":"running"})");
    sse_watch w(port(), "o1");
    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    // Redis delivers in order: an event for any of these would come before
    // the done below.
    for (const char* m : {R"({"status":"progress","data":1})", "not json", "[1,2]", R"("done")",
                          R"({"data":1})", R"({"status":42})", ""})
        cli().publish(channel("o1"), m);
    const std::string fin = R"({"status":"done","data":"real"})";
    cli().publish(channel("o1"), fin);
    ASSERT_TRUE(w.finish()) << w.describe();
    const auto evs = w.events();
    ASSERT_EQ(evs.size(), 2u) << w.describe();
    EXPECT_EQ(evs[1].raw, event_bytes("done", fin));
}

// ------------------------------------------------------------ done

TEST_F(Sse, DoneThroughTheKeyEndsTheStreamAndTheConnectionIsReusable) {
    cli().set(data_key("d1"), R"({"status":"running"})");
    sse_watch w(port(), "d1");
    ASSERT_TRUE(w.wait_stream()) << w.describe();
    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    const std::string fin = R"({"status":"done","answer":42})";
    cli().set(data_key("d1"), fin);
    cli().publish(channel("d1"), R"({"status":"done"})");
    ASSERT_TRUE(w.finish(3000ms)) << "the response did not end after done: " << w.describe();
    EXPECT_TRUE(ended_with(w, "done", fin));
    EXPECT_EQ(w.events().size(), 2u) << w.describe();
    EXPECT_FALSE(w.conn().peer_closed()) << "an HTTP/1.1 stream closed its connection after done";
    EXPECT_TRUE(wait_until([&] { return cli().numsub(channel("d1")) == 0; }, 5000ms));

    // The same connection carries the next request.
    w.conn().take_response();
    ASSERT_TRUE(w.conn().send_request("GET", "/task/d1"));
    auto r = w.conn().read_response(3000ms);
    ASSERT_TRUE(r) << "no answer on the connection after the stream";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, fin);
}

TEST_F(Sse, DoneWithDataIsTheMessageVerbatim) {
    cli().set(data_key("d2"), R"({"status":"running"})");
    sse_watch w(port(), "d2");
    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    const std::string msg = R"({ "status" : "done", "data": {"result":[1, 2.50]} })";
    cli().publish(channel("d2"), msg);
    ASSERT_TRUE(w.finish(3000ms)) << w.describe();
    EXPECT_TRUE(ended_with(w, "done", msg));
    EXPECT_EQ(w.events().back().raw, event_bytes("done", msg));
}

// ------------------------------------------------------------ line breaks

TEST_F(Sse, LineBreaksInAValueBecomeOneDataLinePerLine) {
    // Valid JSON all of them (line breaks are JSON whitespace), so the first
    // one is a value a watch accepts.
    const std::string first = "{\n  \"status\": \"running\",\n  \"pct\": 1\n}";
    cli().set(data_key("ml"), first);
    sse_watch w(port(), "ml");
    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    ASSERT_EQ(w.events()[0].raw, event_bytes("update", first)) << w.describe();
    EXPECT_EQ(w.events()[0].data(), first);

    struct variant {
        const char* name;
        std::string value;
    };
    const std::vector<variant> vs = {
        {"CR LF", "{\r\n\"status\":\"running\",\r\n\"pct\":2\r\n}"},
        {"CR", "{\r\"status\":\"running\",\r\"pct\":3\r}"},
        {"mixed", "{\"status\":\"running\",\n\"a\":1,\r\n\"b\":2,\r\"pct\":4}"},
        // An empty line inside must not end the event early.
        {"blank line inside", "{\"status\":\"running\",\n\n\"pct\":5}"},
        {"CR LF blank line", "{\"status\":\"running\",\r\n\r\n\"pct\":6}"},
        // Leading and trailing breaks are lines too: byte for byte means them.
        {"trailing LF", "{\"status\":\"running\",\"pct\":7}\n"},
        {"leading LF", "\n{\"status\":\"running\",\"pct\":8}"},
        {"only a break", "\n"},
    };
    std::size_t n = 1;
    for (const auto& v : vs) {
        SCOPED_TRACE(v.name);
        cli().set(data_key("ml"), v.value);
        cli().publish(channel("ml"), R"({"status":"update"})");
        ASSERT_TRUE(w.wait_events(++n)) << w.describe();
        const auto ev = w.events()[n - 1];
        EXPECT_EQ(ev.raw, event_bytes("update", v.value)) << visible(ev.raw);
        EXPECT_EQ(ev.data(), normalize_breaks(v.value)) << "what an EventSource rebuilds";
        EXPECT_TRUE(framing_ok(w));
    }
    // A message carrying data is split the same way.
    const std::string msg = "{\r\n  \"status\": \"done\",\n  \"data\": {\"lines\": 3}\r}";
    cli().publish(channel("ml"), msg);
    ASSERT_TRUE(w.finish(3000ms)) << w.describe();
    EXPECT_TRUE(ended_with(w, "done", normalize_breaks(msg)));
    EXPECT_EQ(w.events().back().raw, event_bytes("done", msg));
}

// ------------------------------------------------------------ keepalive

class SseKeepalive : public daemon_test {
protected:
    // watch.keepalive_seconds 0: whatever arrives is the SSE keepalive.
    json daemon_config() override {
        return {{"sse", {{"keepalive_seconds", 1}}}, {"watch", {{"keepalive_seconds", 0}}}};
    }
};

TEST_F(SseKeepalive, ACommentLineEverySecondWhileWaiting) {
    const std::string value = R"({"status":"running"})";
    cli().set(data_key("ka"), value);
    sse_watch w(port(), "ka");
    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    const auto start = clock::now();
    ASSERT_TRUE(w.wait_comments(2, 6000ms)) << "fewer than 2 keepalives in 6 s: " << w.describe();
    EXPECT_GE(clock::now() - start, 900ms) << "keepalives came faster than every second";
    EXPECT_TRUE(framing_ok(w));
    for (auto& u : w.parsed().units) {
        if (u.type == sse_unit::kind::comment) {
            EXPECT_EQ(u.raw, ":\n");
        }
    }
    EXPECT_EQ(w.events().size(), 1u) << "a keepalive is not an event";
    EXPECT_EQ(w.body().rfind("retry: 3000\n\n" + event_bytes("update", value), 0), 0u)
        << visible(w.body());

    const std::string fin = R"({"status":"done","data":"after keepalives"})";
    cli().publish(channel("ka"), fin);
    ASSERT_TRUE(w.finish(3000ms)) << w.describe();
    EXPECT_TRUE(ended_with(w, "done", fin));
}

class SseKeepaliveOff : public daemon_test {
protected:
    json daemon_config() override {
        return {{"sse", {{"keepalive_seconds", 0}}}, {"watch", {{"keepalive_seconds", 1}}}};
    }
};

TEST_F(SseKeepaliveOff, NothingIsWrittenWhileWaiting) {
    const std::string value = R"({"status":"running"})";
    cli().set(data_key("quiet"), value);
    cli().set(data_key("clock"), value);
    sse_watch w(port(), "quiet");
    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    // A classic watch's newlines (watch.keepalive_seconds 1) are the clock:
    // once it has two, two keepalive periods have passed for the stream too.
    watch_client clock_watch(port(), "clock");
    ASSERT_TRUE(clock_watch.wait_established());
    ASSERT_TRUE(clock_watch.conn().read_body_at_least(2, 6000ms));
    // Collect whatever the stream has been sent meanwhile.
    w.conn().read_body_at_least(w.body().size() + 1, 300ms);
    EXPECT_EQ(w.body(), "retry: 3000\n\n" + event_bytes("update", value))
        << "sse.keepalive_seconds 0 must write nothing while waiting; got:\n"
        << visible(w.body());
}

// ------------------------------------------------------------ endings

TEST_F(Sse, ASecondStreamKillsTheFirstWithAnErrorEvent) {
    cli().set(data_key("k1"), R"({"status":"running"})");
    sse_watch older(port(), "k1");
    ASSERT_TRUE(older.wait_events(1)) << older.describe();
    sse_watch newer(port(), "k1");
    ASSERT_TRUE(newer.wait_events(1)) << newer.describe();
    ASSERT_TRUE(older.finish(3000ms)) << "the older stream did not end: " << older.describe();
    EXPECT_TRUE(ended_with(older, "error", error_body(kKilled)));
    EXPECT_EQ(older.events().back().raw, event_bytes("error", error_body(kKilled)));
    EXPECT_FALSE(older.conn().peer_closed()) << "HTTP/1.1: the response ends, not the connection";

    // The newer one ignored its own kill message and still streams.
    EXPECT_FALSE(newer.conn().body_complete()) << newer.describe();
    const std::string fin = R"({"status":"done","data":{"winner":"newer"}})";
    cli().publish(channel("k1"), fin);
    ASSERT_TRUE(newer.finish(3000ms)) << newer.describe();
    EXPECT_TRUE(ended_with(newer, "done", fin));
    EXPECT_EQ(newer.events().size(), 2u) << newer.describe();
}

TEST_F(Sse, StreamsAndClassicWatchesKillEachOther) {
    cli().set(data_key("k2"), R"({"status":"running"})");
    sse_watch stream(port(), "k2");
    ASSERT_TRUE(stream.wait_events(1)) << stream.describe();
    watch_client classic(port(), "k2");
    ASSERT_TRUE(classic.wait_established());
    ASSERT_TRUE(stream.finish(3000ms)) << stream.describe();
    EXPECT_TRUE(ended_with(stream, "error", error_body(kKilled)));

    sse_watch stream2(port(), "k2");
    ASSERT_TRUE(stream2.wait_events(1)) << stream2.describe();
    ASSERT_TRUE(classic.finish(3000ms));
    EXPECT_TRUE(is_error_body(classic.body(), kKilled));
    cli().publish(channel("k2"), R"({"status":"done","data":2})");
    ASSERT_TRUE(stream2.finish(3000ms)) << stream2.describe();
    EXPECT_TRUE(ended_with(stream2, "done", R"({"status":"done","data":2})"));
}

TEST_F(Sse, AForeignKillMessageEndsTheStream) {
    cli().set(data_key("k3"), R"({"status":"running"})");
    sse_watch w(port(), "k3");
    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    cli().publish(channel("k3"),
                  R"({"status":"kill","src":"00000000-0000-4000-8000-000000000000"})");
    ASSERT_TRUE(w.finish(3000ms)) << w.describe();
    EXPECT_TRUE(ended_with(w, "error", error_body(kKilled)));
}

class SseTimeout : public daemon_test {
protected:
    json daemon_config() override {
        return {{"watch", {{"timeout_seconds", 1}, {"keepalive_seconds", 0}}},
                {"sse", {{"keepalive_seconds", 0}}}};
    }
};

TEST_F(SseTimeout, WatchTimeoutEndsTheStreamWithAnErrorEvent) {
    cli().set(data_key("slow"), R"({"status":"running"})");
    sse_watch w(port(), "slow");
    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    ASSERT_TRUE(w.finish(6000ms)) << "watch.timeout_seconds 1 did not end the stream: "
                                  << w.describe();
    EXPECT_TRUE(ended_with(w, "error", error_body("Watch timed out")));
    EXPECT_EQ(w.events().size(), 2u) << w.describe();
    EXPECT_TRUE(wait_until([&] { return cli().numsub(channel("slow")) == 0; }, 5000ms));
    w.conn().take_response();
    ASSERT_TRUE(w.conn().send_request("GET", "/task/slow"));
    auto r = w.conn().read_response(3000ms);
    ASSERT_TRUE(r) << "the connection is not usable after the stream timed out";
    EXPECT_EQ(r->status, 200);
}

TEST_F(Sse, ShutdownEndsTheStreamWithAnErrorEvent) {
    cli().set(data_key("bye"), R"({"status":"running"})");
    sse_watch w(port(), "bye");
    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    daemon().signal(SIGTERM);
    ASSERT_TRUE(w.finish(5000ms)) << "the stream did not end on SIGTERM: " << w.describe();
    EXPECT_TRUE(ended_with(w, "error", error_body("Server shutting down")));
    auto code = daemon().wait_exit(5000ms);
    ASSERT_TRUE(code) << "still running 5 s after SIGTERM";
    EXPECT_EQ(*code, 0);
}

TEST_F(Sse, ClientCloseReleasesTheSubscription) {
    cli().set(data_key("gone"), R"({"status":"running"})");
    {
        sse_watch w(port(), "gone");
        ASSERT_TRUE(w.wait_events(1)) << w.describe();
        EXPECT_EQ(cli().numsub(channel("gone")), 1);
    }
    EXPECT_TRUE(wait_until([&] { return cli().numsub(channel("gone")) == 0; }, 5000ms))
        << "the subscription outlived the client";
    // A later publish reaches nobody and does not disturb the daemon.
    cli().publish(channel("gone"), R"({"status":"done","data":1})");
    EXPECT_EQ(http_get(port(), "/healthz").status, 200);
    // And a new stream of the same task starts afresh.
    sse_watch again(port(), "gone");
    ASSERT_TRUE(again.wait_events(1)) << again.describe();
    EXPECT_EQ(again.events()[0].data(), R"({"status":"running"})");
}

// ------------------------------------------------------------ before the stream

TEST_F(Sse, MissingTaskIsThe404JsonAnswer) {
    sse_watch w(port(), "nothere");
    ASSERT_TRUE(w.finish(3000ms)) << w.describe();
    EXPECT_EQ(w.status(), 404);
    EXPECT_TRUE(is_json_content_type(w.response()));
    EXPECT_TRUE(is_error_body(w.body(), "Not Found"));
    EXPECT_TRUE(wait_until([&] { return cli().numsub(channel("nothere")) == 0; }, 5000ms));
}

TEST_F(Sse, InvalidJsonIsThe502JsonAnswer) {
    cli().set(data_key("bad"), R"({"status":"running")");
    sse_watch w(port(), "bad");
    ASSERT_TRUE(w.finish(3000ms)) << w.describe();
    EXPECT_EQ(w.status(), 502);
    EXPECT_TRUE(is_json_content_type(w.response()));
    EXPECT_TRUE(is_error_body(w.body(), "Invalid JSON in task data"));
}

TEST_F(Sse, DoneValueIsAnsweredAtOnceAsJson) {
    const std::string value = R"({ "status":"done",  "result": {"x": [1, 2.50]} })";
    cli().set(data_key("fin"), value);
    sse_watch w(port(), "fin");
    ASSERT_TRUE(w.finish(3000ms)) << w.describe();
    EXPECT_EQ(w.status(), 200);
    EXPECT_TRUE(is_json_content_type(w.response()));
    EXPECT_TRUE(has_no_store(w.response()));
    EXPECT_EQ(w.body(), value);
    EXPECT_TRUE(wait_until([&] { return cli().numsub(channel("fin")) == 0; }, 5000ms));
    // The connection is usable afterwards, as after any watch answer.
    w.conn().take_response();
    ASSERT_TRUE(w.conn().send_request("GET", "/task/fin"));
    auto r = w.conn().read_response(3000ms);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, value);
}

// ------------------------------------------------------------ Accept, HEAD, HTTP/1.0

TEST_F(Sse, AnAcceptListContainingEventStreamStreams) {
    const std::string value = R"({"status":"running"})";
    cli().set(data_key("al"), value);
    for (const char* accept :
         {"application/json;q=0.5, text/event-stream", "text/html, text/event-stream;q=0.9"}) {
        SCOPED_TRACE(accept);
        sse_watch w(port(), "al", accept);
        ASSERT_TRUE(w.wait_stream()) << w.describe();
        ASSERT_TRUE(w.wait_events(1)) << w.describe();
        EXPECT_EQ(w.events()[0].raw, event_bytes("update", value));
        // The next iteration's stream kills this one; end it here instead.
        w.close();
        ASSERT_TRUE(wait_until([&] { return cli().numsub(channel("al")) == 0; }, 5000ms));
    }
}

TEST_F(Sse, AnAcceptWithoutEventStreamIsTheClassicWatch) {
    cli().set(data_key("cl"), R"({"status":"running"})");
    // "" sends no Accept at all.
    for (const char* accept : {"", "application/json", "*/*",
                               "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                               "text/plain", "text/event"}) {
        SCOPED_TRACE(accept);
        sse_watch w(port(), "cl", accept);
        ASSERT_TRUE(w.wait_head()) << w.describe();
        EXPECT_EQ(w.status(), 200);
        EXPECT_TRUE(is_json_content_type(w.response())) << w.describe();
        EXPECT_FALSE(w.conn().body_complete()) << "the classic watch waits: " << w.describe();
        const std::string fin = R"({"status":"update","data":"classic"})";
        cli().publish(channel("cl"), fin);
        ASSERT_TRUE(w.finish(3000ms)) << w.describe();
        EXPECT_EQ(strip_leading_newlines(w.body()), fin);
    }
}

TEST_F(Sse, HeadIsStillAPoll) {
    const std::string value = R"({"status":"running"})";
    cli().set(data_key("hd"), value);
    http_connection c(port());
    ASSERT_TRUE(c.send_request("HEAD", "/task/hd?watch", {{"Accept", "text/event-stream"}}));
    auto r = c.read_response(3000ms, true);
    ASSERT_TRUE(r) << "a HEAD with Accept: text/event-stream was not answered at once; got `"
                   << visible(c.raw_received()) << "`";
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(is_json_content_type(*r));
    // Nothing of an event stream follows the head, and the connection goes on.
    ASSERT_TRUE(c.send_request("GET", "/task/hd"));
    auto p = c.read_response(3000ms);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->status, 200);
    EXPECT_EQ(p->body, value);
    EXPECT_EQ(cli().numsub(channel("hd")), 0) << "a HEAD subscribed";
}

TEST_F(Sse, Http10StreamIsCloseDelimited) {
    const std::string value = R"({"status":"running"})";
    cli().set(data_key("old"), value);
    sse_watch w(port(), "old", "text/event-stream", "HTTP/1.0");
    ASSERT_TRUE(w.wait_stream()) << w.describe();
    const auto& r = w.response();
    EXPECT_FALSE(r.chunked) << "no chunked encoding for HTTP/1.0";
    EXPECT_FALSE(r.has_header("Content-Length"));
    EXPECT_TRUE(iequals(r.header("Connection").value_or(""), "close"))
        << "Connection is `" << r.header("Connection").value_or("<absent>") << "`";
    EXPECT_EQ(r.header("Content-Type").value_or(""), "text/event-stream");
    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    EXPECT_EQ(w.body(), "retry: 3000\n\n" + event_bytes("update", value)) << visible(w.body());

    const std::string fin = R"({"status":"done","data":"x"})";
    cli().publish(channel("old"), fin);
    ASSERT_TRUE(w.finish(3000ms)) << w.describe();
    EXPECT_TRUE(w.conn().peer_closed());
    EXPECT_TRUE(ended_with(w, "done", fin));
}

// ------------------------------------------------------------ sse.retry_ms

class SseRetry : public daemon_test {
protected:
    json daemon_config() override { return {{"sse", {{"retry_ms", 1234}}}}; }
};

TEST_F(SseRetry, TheConfiguredRetryIsSentFirst) {
    const std::string value = R"({"status":"running"})";
    cli().set(data_key("rt"), value);
    sse_watch w(port(), "rt");
    ASSERT_TRUE(w.wait_events(1)) << w.describe();
    EXPECT_EQ(w.body(), "retry: 1234\n\n" + event_bytes("update", value)) << visible(w.body());
}

} // namespace
