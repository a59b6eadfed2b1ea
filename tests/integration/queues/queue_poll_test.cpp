// Queue long-poll (MODES.md 0, 1; 6 Parameters, Names, Publishing switched
// off, Queues): one message per GET, Content-Type, headers, 504 and
// ?timeout=, 400 Invalid parameter / Invalid name, signed names, HEAD,
// publish, 502, 503, CORS, queue mode switched off.
#include "queues/queue_common.hpp"

using namespace rpd::test;

namespace {

class QueuePoll : public queue_test {};

// ------------------------------------------------------------ take

TEST_F(QueuePoll, GetTakesTheOldestMessageVerbatim) {
    rpush(cli(), qkey("jobs"), {R"({"n":1})", R"({"n":2})", "three"});
    auto r = get("/queue/jobs");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, R"({"n":1})");
    EXPECT_EQ(lrange(cli(), qkey("jobs")), (std::vector<std::string>{R"({"n":2})", "three"}))
        << "exactly the head was removed";
    r = get("/queue/jobs");
    EXPECT_EQ(r.body, R"({"n":2})");
    r = get("/queue/jobs");
    EXPECT_EQ(r.body, "three");
    EXPECT_EQ(cli().command({"EXISTS", qkey("jobs")}).integer, 0);
}

TEST_F(QueuePoll, JsonMessagesAreApplicationJsonOthersTextPlain) {
    const std::vector<std::pair<std::string, bool>> cases = {
        {R"({"a":[1,2,{"b":null}]})", true},
        {R"( { "spaced" : true } )", true},
        {"[1,2,3]", true},
        {"42", true},
        {R"("a string")", true},
        {"true", true},
        {"null", true},
        {"hello world", false},
        {R"({"a":1)", false},
        {"{'single':1}", false},
        {"caf\xc3\xa9 \xe2\x82\xac", false},
    };
    for (auto& [msg, is_json] : cases) {
        rpush(cli(), qkey("ct"), {msg});
        auto r = get("/queue/ct?timeout=0");
        EXPECT_EQ(r.status, 200) << msg;
        EXPECT_EQ(r.body, msg) << "the body is the message verbatim";
        const auto ct = r.header("Content-Type").value_or("<absent>");
        if (is_json) {
            EXPECT_TRUE(is_json_content_type(r)) << msg << ": " << ct;
        } else {
            EXPECT_EQ(ct, "text/plain; charset=utf-8") << msg;
        }
    }
}

TEST_F(QueuePoll, BinaryMessagesAreDeliveredByteForByte) {
    std::string bin;
    for (int i = 0; i < 256; ++i)
        bin.push_back(static_cast<char>(i));
    bin += std::string("\0\r\n\r\n\0", 6);
    rpush(cli(), qkey("bin"), {bin});
    auto r = get("/queue/bin?timeout=0");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), bin.size());
    EXPECT_TRUE(r.body == bin) << "bytes changed on the way";
    EXPECT_EQ(r.header("Content-Type").value_or(""), "text/plain; charset=utf-8");
}

TEST_F(QueuePoll, AnswersCarryNoStoreAndXAccelBuffering) {
    rpush(cli(), qkey("h"), {R"({"x":1})"});
    auto r = get("/queue/h");
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(has_no_store(r));
    EXPECT_TRUE(has_x_accel_no(r));
    EXPECT_FALSE(r.has_header("X-Delivery-Id")) << "only the acknowledged mode carries it";
    r = get("/queue/h?timeout=0");
    EXPECT_EQ(r.status, 504);
    EXPECT_TRUE(has_no_store(r));
    EXPECT_TRUE(has_x_accel_no(r));
    EXPECT_TRUE(is_json_content_type(r));
}

TEST_F(QueuePoll, AWaitingGetIsAnsweredByAnRpush) {
    auto p = pending("/queue/w?timeout=10");
    ASSERT_TRUE(wait_waiters(1)) << waiters();
    rpush(cli(), qkey("w"), {R"({"late":true})"});
    auto r = p->wait(5000ms);
    ASSERT_TRUE(r) << "not answered after the RPUSH";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, R"({"late":true})");
    EXPECT_TRUE(is_json_content_type(*r));
    EXPECT_TRUE(has_x_accel_no(*r));
    EXPECT_TRUE(has_no_store(*r));
    EXPECT_EQ(llen(cli(), qkey("w")), 0);
}

// The implementation decides: no head before a message, so no keepalive
// newline ever precedes the message (a Pistachio client parses the body).
TEST_F(QueuePoll, NoHeadOrKeepaliveIsWrittenWhileWaiting) {
    auto p = pending("/queue/nohead?timeout=10");
    ASSERT_TRUE(wait_waiters(1));
    EXPECT_FALSE(p->conn().read_head(300ms))
        << "a head was committed before any message: " << visible(p->conn().raw_received());
    rpush(cli(), qkey("nohead"), {"m"});
    auto r = p->wait(5000ms);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "m");
}

TEST_F(QueuePoll, KeepAliveConnectionServesSeveralTakes) {
    rpush(cli(), qkey("ka"), {"a", "b"});
    http_connection c(port());
    for (const std::string& expected : std::vector<std::string>{"a", "b"}) {
        ASSERT_TRUE(c.send_request("GET", "/queue/ka?timeout=0"));
        auto r = c.read_response(5000ms);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, expected);
    }
    ASSERT_TRUE(c.send_request("GET", "/queue/ka?timeout=0"));
    auto r = c.read_response(5000ms);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 504);
}

// ------------------------------------------------------------ timeouts

class QueuePollShort : public queue_test {
    json extra_config() override {
        return {{"queue", {{"timeout_seconds", 1}, {"max_timeout_seconds", 2}}}};
    }
};

TEST_F(QueuePollShort, AnEmptyQueueAnswers504AfterQueueTimeoutSeconds) {
    const auto t0 = clock::now();
    auto r = get("/queue/empty", {}, 10000ms);
    const auto elapsed = clock::now() - t0;
    EXPECT_EQ(r.status, 504);
    EXPECT_TRUE(is_error_body(r.body, "Timed out"));
    EXPECT_TRUE(is_json_content_type(r));
    EXPECT_GE(elapsed, 900ms);
    EXPECT_LT(elapsed, 4000ms);
    EXPECT_TRUE(wait_until([&] { return waiters() == 0; }, 3000ms)) << waiters();
}

TEST_F(QueuePollShort, TimeoutZeroAnswersAtOnce) {
    const auto t0 = clock::now();
    auto r = get("/queue/empty?timeout=0");
    EXPECT_EQ(r.status, 504);
    EXPECT_TRUE(is_error_body(r.body, "Timed out"));
    EXPECT_LT(clock::now() - t0, 700ms);
    rpush(cli(), qkey("full"), {"x"});
    r = get("/queue/full?timeout=0");
    EXPECT_EQ(r.status, 200) << "timeout=0 still takes a message that is there";
    EXPECT_EQ(r.body, "x");
}

TEST_F(QueuePollShort, TimeoutShortensOrLengthensOneWait) {
    auto t0 = clock::now();
    auto r = get("/queue/e?timeout=2", {}, 10000ms);
    EXPECT_EQ(r.status, 504);
    EXPECT_GE(clock::now() - t0, 1800ms) << "?timeout=2 lengthens the 1 s default";
    t0 = clock::now();
    r = get("/queue/e?timeout=86400", {}, 15000ms);
    EXPECT_EQ(r.status, 504) << "over the maximum is clamped, not refused: " << r.body;
    EXPECT_LT(clock::now() - t0, 5000ms) << "not clamped to queue.max_timeout_seconds (2)";
    t0 = clock::now();
    r = get("/queue/e?timeout=99999999999999999999999", {}, 15000ms);
    EXPECT_EQ(r.status, 504) << "a decimal past 64 bits is still over the maximum: " << r.body;
    EXPECT_LT(clock::now() - t0, 5000ms);
}

TEST_F(QueuePoll, MalformedTimeoutsAre400InvalidParameter) {
    rpush(cli(), qkey("p"), {"keep"});
    for (const std::string& q : std::vector<std::string>{
             "timeout=-1", "timeout=abc", "timeout=1.5", "timeout=%2B1", "timeout=", "timeout=1s",
             "timeout=0x10", "timeout=1e3", "timeout=%201", "timeout=1,2"}) {
        auto r = get("/queue/p?" + q);
        EXPECT_EQ(r.status, 400) << q << " -> " << r.body;
        EXPECT_TRUE(is_error_body(r.body, "Invalid parameter")) << q;
        EXPECT_TRUE(is_json_content_type(r)) << q;
    }
    EXPECT_EQ(llen(cli(), qkey("p")), 1) << "a refused request took a message";
    auto r = get("/queue/p?timeout=007");
    EXPECT_EQ(r.status, 200) << "a decimal with leading zeros is a decimal: " << r.body;
}

// ------------------------------------------------------------ names

TEST_F(QueuePoll, NamesFollowTheNamePatternAndArePercentDecodedOnce) {
    const std::string name = "a:b@c.d-e_f/g";
    rpush(cli(), qkey(name), {"n"});
    auto r = get("/queue/a:b@c.d-e_f%2Fg?timeout=0");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "n") << "key " << qkey(name);

    rpush(cli(), qkey(std::string(200, 'q')), {"long"});
    r = get("/queue/" + std::string(200, 'q') + "?timeout=0");
    EXPECT_EQ(r.status, 200) << "200 characters is within {1,200}";
    EXPECT_EQ(r.body, "long");

    for (const std::string& seg : std::vector<std::string>{
             "a%20b", "a%2520b", "%C3%A9t%C3%A9", "a%00b", "a%25", "a!b", std::string(201, 'q')}) {
        auto b = get("/queue/" + seg + "?timeout=0");
        EXPECT_EQ(b.status, 400) << seg << " -> " << b.body;
        EXPECT_TRUE(is_error_body(b.body, "Invalid name")) << seg;
    }
}

class QueuePollPattern : public queue_test {
    json extra_config() override { return {{"queue", {{"name_pattern", "^[a-z]{1,5}$"}}}}; }
};

TEST_F(QueuePollPattern, QueueNamePatternIsApplied) {
    EXPECT_EQ(get("/queue/abc?timeout=0").status, 504);
    for (const std::string& seg : std::vector<std::string>{"ABC", "abcdef", "a1"}) {
        auto r = get("/queue/" + seg + "?timeout=0");
        EXPECT_EQ(r.status, 400) << seg;
        EXPECT_TRUE(is_error_body(r.body, "Invalid name")) << seg;
    }
}

constexpr const char* kSecret = "queue-secret";

class QueuePollSigned : public queue_test {
    json extra_config() override {
        return {{"task", {{"signing_secret", kSecret}}}, {"queue", {{"allow_publish", true}}}};
    }
};

TEST_F(QueuePollSigned, ASignedNameTakesFromTheBareKey) {
    rpush(cli(), qkey("sig.ned"), {"s"});
    const auto seg = signed_queue(kSecret, "sig.ned");
    auto r = get("/queue/" + seg + "?timeout=0");
    EXPECT_EQ(r.status, 200) << seg << " -> " << r.body;
    EXPECT_EQ(r.body, "s");
}

TEST_F(QueuePollSigned, TheSegmentIsPercentDecodedBeforeTheSignatureIsSplitOff) {
    rpush(cli(), qkey("pct"), {"p"});
    const auto seg = signed_queue(kSecret, "pct");
    auto r = get("/queue/pct%2E" + seg.substr(4) + "?timeout=0");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "p");
}

TEST_F(QueuePollSigned, MissingWrongOrForeignSignaturesAre403AndTakeNothing) {
    rpush(cli(), qkey("jobs"), {"keep"});
    const auto good = signed_queue(kSecret, "jobs");
    const auto sig = good.substr(5);
    std::string flipped = sig;
    flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
    const std::vector<std::string> segs = {
        "jobs",
        "jobs.",
        "jobs." + flipped,
        "jobs." + sig + "x",
        "jobz." + sig,
        "jobs." + hmac_b64url(kSecret, "jobs", 16),          // a task signature
        "jobs." + hmac_b64url(kSecret, "mailbox:jobs", 16),  // a mailbox signature
        "jobs." + hmac_b64url(kSecret, "stream:jobs", 16),   // a stream signature
        "jobs." + hmac_b64url(kSecret, "publish:jobs", 32)}; // the publish token
    for (const auto& seg : segs) {
        auto r = get("/queue/" + seg + "?timeout=0");
        EXPECT_EQ(r.status, 403) << seg << " -> " << r.body;
        EXPECT_TRUE(is_error_body(r.body, "Invalid signature")) << seg;
        auto h = head("/queue/" + seg);
        EXPECT_EQ(h.status, 403) << "HEAD " << seg;
    }
    EXPECT_EQ(llen(cli(), qkey("jobs")), 1);
}

TEST_F(QueuePollSigned, TheCliSignsQueueNames) {
    auto out = run_command({daemon_binary(), "--config", daemon().config_path(), "--sign-for",
                            "queue", "--sign", "jobs"});
    EXPECT_EQ(out.exit_code, 0) << out.err;
    std::string s = out.out;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    EXPECT_EQ(s, signed_queue(kSecret, "jobs"));
}

TEST_F(QueuePollSigned, PublishNeedsTheSignedNameAndTheBearerToken) {
    const auto seg = signed_queue(kSecret, "pub");
    const auto token = publish_token(kSecret, "pub");
    const std::vector<header_list> bad = {
        {},
        {{"Authorization", "Bearer"}},
        {{"Authorization", "Bearer " + token + "x"}},
        {{"Authorization", "Basic " + token}},
        {{"Authorization", "Bearer " + publish_token(kSecret, "other")}},
        {{"Authorization", "Bearer " + hmac_b64url(kSecret, "queue:pub", 32)}}};
    for (std::size_t i = 0; i < bad.size(); ++i) {
        auto r = post(port(), "/queue/" + seg, "m", bad[i]);
        EXPECT_EQ(r.status, 403) << "case " << i << " -> " << r.body;
        EXPECT_TRUE(is_error_body(r.body, "Forbidden")) << "case " << i;
    }
    EXPECT_EQ(cli().command({"EXISTS", qkey("pub")}).integer, 0);
    auto r = post(port(), "/queue/" + seg, "m", {{"Authorization", "Bearer " + token}});
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(parse_or_null(r.body), (json{{"length", 1}}));
    r = post(port(), "/queue/pub", "m", {{"Authorization", "Bearer " + token}});
    EXPECT_EQ(r.status, 403) << "the name itself must still be signed";
    EXPECT_TRUE(is_error_body(r.body, "Invalid signature"));
    EXPECT_EQ(llen(cli(), qkey("pub")), 1);
}

// ------------------------------------------------------------ HEAD

TEST_F(QueuePoll, HeadAnswersTheLengthAndNeverTakes) {
    auto r = head("/queue/len");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("X-Queue-Length").value_or("<absent>"), "0") << "a missing key is 0";
    EXPECT_TRUE(r.body.empty());
    rpush(cli(), qkey("len"), {"a", "b", "c"});
    const auto t0 = clock::now();
    r = head("/queue/len");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("X-Queue-Length").value_or("<absent>"), "3");
    EXPECT_TRUE(has_no_store(r));
    EXPECT_LT(clock::now() - t0, 1000ms) << "HEAD never waits";
    EXPECT_EQ(llen(cli(), qkey("len")), 3) << "HEAD took a message";
    // HEAD on an empty queue does not wait either, even with ?timeout.
    cli().command({"DEL", qkey("len")});
    const auto t1 = clock::now();
    r = head("/queue/len?timeout=5");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("X-Queue-Length").value_or("<absent>"), "0");
    EXPECT_LT(clock::now() - t1, 1000ms);
}

TEST_F(QueuePoll, HeadAndGetOfAKeyOfTheWrongTypeAre502) {
    cli().set(qkey("str"), "a string");
    cli().command({"HSET", qkey("hash"), "f", "v"});
    cli().command({"XADD", qkey("strm"), "*", "f", "v"});
    for (const std::string& n : std::vector<std::string>{"str", "hash", "strm"}) {
        for (const std::string& q : std::vector<std::string>{"?timeout=0", "", "?ack&timeout=0"}) {
            auto r = get("/queue/" + n + q);
            EXPECT_EQ(r.status, 502) << n << q << " -> " << r.body;
            EXPECT_TRUE(is_error_body(r.body, "Wrong type of Redis key")) << n << q;
        }
        auto h = head("/queue/" + n);
        EXPECT_EQ(h.status, 502) << "HEAD " << n;
    }
    EXPECT_EQ(cli().get(qkey("str")).value_or(""), "a string");
}

// A key that changes type while a client waits on it.
TEST_F(QueuePoll, AWaiterWhoseKeyBecomesTheWrongTypeGets502NotAHang) {
    auto p = pending("/queue/morph?timeout=10");
    ASSERT_TRUE(wait_waiters(1));
    cli().set(qkey("morph"), "now a string");
    auto r = p->wait(5000ms);
    ASSERT_TRUE(r) << "the waiter hung on a key of the wrong type";
    EXPECT_EQ(r->status, 502) << r->body;
    EXPECT_TRUE(is_error_body(r->body, "Wrong type of Redis key"));
}

// ------------------------------------------------------------ publish

TEST_F(QueuePoll, PublishSwitchedOffIs405WithAllow) {
    auto r = post(port(), "/queue/nopub", "m");
    EXPECT_EQ(r.status, 405) << r.body;
    EXPECT_EQ(r.header("Allow").value_or("<absent>"), "GET, HEAD, OPTIONS");
    EXPECT_TRUE(is_error_body(r.body, "Method Not Allowed"));
    EXPECT_EQ(cli().command({"EXISTS", qkey("nopub")}).integer, 0);
}

class QueuePublish : public queue_test {
    json extra_config() override {
        return {{"queue", {{"allow_publish", true}, {"max_message_bytes", 2048}}}};
    }
};

TEST_F(QueuePublish, PostRpushesAndAnswers201WithTheLength) {
    auto r = post(port(), "/queue/pub", R"({"a":1})", {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(parse_or_null(r.body), (json{{"length", 1}})) << r.body;
    EXPECT_TRUE(is_json_content_type(r));
    EXPECT_TRUE(has_no_store(r));
    rpush(cli(), qkey("pub"), {"x"});
    r = post(port(), "/queue/pub", "plain text\nwith a line");
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(parse_or_null(r.body), (json{{"length", 3}})) << "N = the length after RPUSH";
    EXPECT_EQ(lrange(cli(), qkey("pub")),
              (std::vector<std::string>{R"({"a":1})", "x", "plain text\nwith a line"}))
        << "RPUSH, verbatim";
}

TEST_F(QueuePublish, APublishedMessageWakesAWaiter) {
    auto p = pending("/queue/wake?timeout=10");
    ASSERT_TRUE(wait_waiters(1));
    auto r = post(port(), "/queue/wake", R"({"w":1})");
    EXPECT_EQ(r.status, 201);
    auto got = p->wait(5000ms);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 200);
    EXPECT_EQ(got->body, R"({"w":1})");
}

TEST_F(QueuePublish, ABodyAtTheLimitIsAcceptedOneByteMoreIs413) {
    const std::string at(2048, 'a');
    auto r = post(port(), "/queue/big", at);
    EXPECT_EQ(r.status, 201) << r.body;
    http_connection c(port());
    ASSERT_TRUE(c.send_request("POST", "/queue/big", {}, "HTTP/1.1", at + "b"));
    auto over = c.read_response(5000ms);
    if (over) {
        EXPECT_EQ(over->status, 413) << over->body;
        EXPECT_TRUE(is_error_body(over->body, "Request too large")) << over->body;
    } else {
        EXPECT_TRUE(c.peer_closed()) << "neither a 413 nor a closed connection";
    }
    EXPECT_EQ(lrange(cli(), qkey("big")), std::vector<std::string>{at});
}

TEST_F(QueuePublish, AnEmptyBodyIsPublishedAsAnEmptyMessageOrRefused) {
    // The spec says "with a body"; either answer is fine, but never a crash
    // and never a 5xx.
    auto r = post(port(), "/queue/emptybody", "");
    EXPECT_TRUE(r.status == 201 || r.status == 400) << r.status << " " << r.body;
    EXPECT_EQ(http_get(port(), "/healthz").status, 200);
}

TEST_F(QueuePublish, PublishToAKeyOfTheWrongTypeIs502) {
    cli().set(qkey("str"), "s");
    auto r = post(port(), "/queue/str", "m");
    EXPECT_EQ(r.status, 502) << r.body;
    EXPECT_TRUE(is_error_body(r.body, "Wrong type of Redis key"));
}

TEST_F(QueuePublish, PublishWithAnInvalidNameIs400) {
    auto r = post(port(), "/queue/a%20b", "m");
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(is_error_body(r.body, "Invalid name"));
}

// ------------------------------------------------------------ Redis down

TEST_F(QueuePoll, RedisDownIs503) {
    rpush(cli(), qkey("down"), {"m"});
    redis().stop();
    ASSERT_TRUE(wait_until(
        [&] {
            try {
                return get("/queue/down?timeout=0", {}, 3000ms).status == 503;
            } catch (const std::exception&) {
                return false;
            }
        },
        8000ms, 100ms))
        << "no 503 once Redis is down";
    auto r = get("/queue/down?timeout=0");
    EXPECT_TRUE(is_error_body(r.body, "Redis unavailable"));
    r = get("/queue/down?timeout=3", {}, 10000ms);
    EXPECT_EQ(r.status, 503) << "a long-poll that cannot start is 503 too: " << r.body;
    r = get("/queue/down?ack&timeout=0");
    EXPECT_EQ(r.status, 503) << "ack mode";
    EXPECT_EQ(head("/queue/down").status, 503) << "HEAD";
    r = get("/mailbox/down?timeout=0");
    EXPECT_EQ(r.status, 503) << "mailbox";
    EXPECT_TRUE(is_error_body(r.body, "Redis unavailable"));
}

// ------------------------------------------------------------ CORS, off

class QueueCors : public queue_test {
    json extra_config() override {
        return {{"http", {{"cors_origins", json::array({"https://app.example"})}}}};
    }
};

TEST_F(QueueCors, AnswersAndErrorsCarryCorsHeadersForAnAllowedOrigin) {
    rpush(cli(), qkey("c"), {"m"});
    const header_list o = {{"Origin", "https://app.example"}};
    for (const std::string& t :
         std::vector<std::string>{"/queue/c", "/queue/c?timeout=0", "/queue/a%20b",
                                  "/queue/c?timeout=x", "/mailbox/c?timeout=0"}) {
        auto r = get(t, o);
        EXPECT_EQ(r.header("Access-Control-Allow-Origin").value_or("<absent>"),
                  "https://app.example")
            << t << " " << r.status;
        EXPECT_TRUE(contains(r.header("Vary").value_or(""), "Origin")) << t;
    }
    auto r = get("/queue/c?timeout=0", {{"Origin", "https://evil.example"}});
    EXPECT_FALSE(r.has_header("Access-Control-Allow-Origin"));
    r = http_request(port(), "OPTIONS", "/queue/c",
                     {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}});
    EXPECT_EQ(r.status, 204) << r.body;
    EXPECT_EQ(r.header("Access-Control-Allow-Origin").value_or("<absent>"), "https://app.example");
    EXPECT_TRUE(r.has_header("Access-Control-Allow-Methods"));
    r = http_request(port(), "OPTIONS", "/mailbox/c",
                     {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}});
    EXPECT_EQ(r.status, 204) << r.body;
}

class QueueCorsPublish : public queue_test {
    json extra_config() override {
        return {{"http", {{"cors_origins", json::array({"https://app.example"})}}},
                {"queue", {{"allow_publish", true}}}};
    }
};

// A page on an allowed origin may publish and ack: the preflight says POST.
TEST_F(QueueCorsPublish, PreflightAnnouncesPostWhereItIsAccepted) {
    const header_list o = {{"Origin", "https://app.example"},
                           {"Access-Control-Request-Method", "POST"},
                           {"Access-Control-Request-Headers", "authorization, content-type"}};
    for (const std::string& t : {std::string("/queue/c"), std::string("/queue/c/ack/abc")}) {
        const auto r = http_request(port(), "OPTIONS", t, o);
        EXPECT_EQ(r.status, 204) << t;
        EXPECT_EQ(r.header("Access-Control-Allow-Methods").value_or("<absent>"),
                  "GET, HEAD, POST, OPTIONS")
            << t;
        EXPECT_EQ(r.header("Allow").value_or("<absent>"), "GET, HEAD, POST, OPTIONS") << t;
        EXPECT_EQ(r.header("Access-Control-Allow-Headers").value_or("<absent>"),
                  "authorization, content-type")
            << t;
    }
    // Mailboxes take no POST.
    const auto r = http_request(port(), "OPTIONS", "/mailbox/c", o);
    EXPECT_EQ(r.header("Access-Control-Allow-Methods").value_or("<absent>"), "GET, HEAD, OPTIONS");
}

class QueueOff : public daemon_test {
    json daemon_config() override {
        return {{"queue", {{"enabled", false}, {"allow_publish", true}}},
                {"mailbox", {{"enabled", false}}}};
    }
};

TEST_F(QueueOff, SwitchedOffModesPathsAre404) {
    rpush(cli(), qkey("x"), {"m"});
    rpush(cli(), mkey("x"), {"m"});
    for (const std::string& t :
         std::vector<std::string>{"/queue/x", "/queue/x?timeout=0", "/queue/x?ack", "/mailbox/x",
                                  "/mailbox/x?timeout=0"}) {
        auto r = http_get(port(), t);
        EXPECT_EQ(r.status, 404) << t << " -> " << r.body;
        EXPECT_TRUE(is_error_body(r.body, "Not Found")) << t;
    }
    EXPECT_EQ(post(port(), "/queue/x", "m").status, 404);
    EXPECT_EQ(post(port(), "/queue/x/ack/abc", "").status, 404);
    EXPECT_EQ(llen(cli(), qkey("x")), 1);
    EXPECT_EQ(llen(cli(), mkey("x")), 1);
}

TEST_F(QueuePoll, OtherPathsUnderQueueAre404) {
    for (const std::string& t :
         std::vector<std::string>{"/queue", "/queue/", "/mailbox", "/mailbox/"}) {
        auto r = get(t);
        EXPECT_TRUE(r.status == 404 || r.status == 400) << t << " -> " << r.status;
    }
    EXPECT_EQ(http_get(port(), "/healthz").status, 200);
}

} // namespace
