// Unit tests of http::router (spec section 2's table and section 6's paths).

#include "daemon_routes.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace rpd::testing {
// Readable failure messages.
inline std::ostream& operator<<(std::ostream& os, route::kind k) {
    switch (k) {
    case route::kind::task_poll:
        return os << "task_poll";
    case route::kind::task_watch:
        return os << "task_watch";
    case route::kind::task_options:
        return os << "task_options";
    case route::kind::healthz:
        return os << "healthz";
    case route::kind::metrics:
        return os << "metrics";
    case route::kind::not_found:
        return os << "not_found";
    case route::kind::method_not_allowed:
        return os << "method_not_allowed";
    case route::kind::invalid_task_id:
        return os << "invalid_task_id";
    case route::kind::invalid_mode:
        return os << "invalid_mode";
    }
    return os << "?";
}
} // namespace rpd::testing

namespace {

using rpd::http::method;
using rpd::testing::route;
using router = rpd::testing::daemon_routes;
using kind = rpd::testing::route::kind;

class Router : public ::testing::Test {
protected:
    rpd::tasks::task_id_validator validator{
        std::string(rpd::tasks::task_id_validator::default_pattern), 32};
    router r{validator};

    kind resolve(method m, std::string_view target) const { return r.resolve(m, target).type; }
};

// ---- the table of section 2 ----------------------------------------------------

TEST_F(Router, GetWithoutQueryIsPoll) {
    const route res = r.resolve(method::get, "/task/abc123");
    EXPECT_EQ(res.type, kind::task_poll);
    EXPECT_EQ(res.id, "abc123");
}

TEST_F(Router, GetPollIsPoll) {
    const route res = r.resolve(method::get, "/task/abc123?poll");
    EXPECT_EQ(res.type, kind::task_poll);
    EXPECT_EQ(res.id, "abc123");
}

TEST_F(Router, GetWatchIsWatch) {
    const route res = r.resolve(method::get, "/task/abc123?watch");
    EXPECT_EQ(res.type, kind::task_watch);
    EXPECT_EQ(res.id, "abc123");
}

TEST_F(Router, EmptyQueryIsPoll) {
    const route res = r.resolve(method::get, "/task/x?");
    EXPECT_EQ(res.type, kind::task_poll);
    EXPECT_EQ(res.id, "x");
}

TEST_F(Router, AnythingElseIsInvalidMode) {
    for (const char* target :
         {"/task/abc?foo", "/task/abc?watch=1", "/task/abc?watch&watch", "/task/abc?poll=1",
          "/task/abc?WATCH", "/task/abc?Poll", "/task/abc?watch&poll", "/task/abc??",
          "/task/abc?watch?", "/task/abc?&", "/task/abc?=", "/task/abc? watch",
          "/task/abc?watch#x"}) {
        const route res = r.resolve(method::get, target);
        EXPECT_EQ(res.type, kind::invalid_mode) << target;
        EXPECT_EQ(res.id, "abc") << target;
    }
}

TEST_F(Router, HeadIsAPollWhateverTheValidMode) {
    EXPECT_EQ(resolve(method::head, "/task/abc"), kind::task_poll);
    EXPECT_EQ(resolve(method::head, "/task/abc?"), kind::task_poll);
    EXPECT_EQ(resolve(method::head, "/task/abc?poll"), kind::task_poll);
    const route res = r.resolve(method::head, "/task/abc?watch");
    EXPECT_EQ(res.type, kind::task_poll);
    EXPECT_EQ(res.id, "abc");
}

TEST_F(Router, HeadWithAnInvalidMode) {
    EXPECT_EQ(resolve(method::head, "/task/abc?foo"), kind::invalid_mode);
}

TEST_F(Router, OptionsOnTaskPathsIsThePreflight) {
    EXPECT_EQ(resolve(method::options, "/task/abc"), kind::task_options);
    EXPECT_EQ(resolve(method::options, "/task/abc?watch"), kind::task_options);
    EXPECT_EQ(resolve(method::options, "/task/abc?poll"), kind::task_options);
    // The preflight does not judge the id or the mode.
    EXPECT_EQ(resolve(method::options, "/task/abc?foo"), kind::task_options);
    EXPECT_EQ(resolve(method::options, "/task/%41"), kind::task_options);
}

TEST_F(Router, OtherMethodsOnTaskPathsAre405) {
    EXPECT_EQ(resolve(method::other, "/task/abc"), kind::method_not_allowed);
    EXPECT_EQ(resolve(method::other, "/task/abc?watch"), kind::method_not_allowed);
}

TEST_F(Router, OtherPathsAre404) {
    for (const char* target :
         {"/", "", "*", "/tasks/abc", "/TASK/abc", "/Task/abc", "/taskabc", "/task1/abc",
          "/x/task/abc", "//task/abc", "/healthz/", "/metrics/", "/health", "/metric", "/HEALTHZ",
          "/index.html", "http://localhost/task/abc"}) {
        EXPECT_EQ(resolve(method::get, target), kind::not_found) << target;
        EXPECT_EQ(resolve(method::head, target), kind::not_found) << target;
        EXPECT_EQ(resolve(method::options, target), kind::not_found) << target;
        EXPECT_EQ(resolve(method::other, target), kind::not_found) << target;
    }
}

// ---- task ids ----------------------------------------------------------------------

TEST_F(Router, TaskAloneIsAnUnknownPath) {
    EXPECT_EQ(resolve(method::get, "/task"), kind::not_found);
    EXPECT_EQ(resolve(method::get, "/task?watch"), kind::not_found);
    EXPECT_EQ(resolve(method::other, "/task"), kind::not_found);
    EXPECT_EQ(resolve(method::options, "/task"), kind::not_found);
}

TEST_F(Router, EmptyIdIsInvalid) {
    EXPECT_EQ(resolve(method::get, "/task/"), kind::invalid_task_id);
    EXPECT_EQ(resolve(method::get, "/task/?watch"), kind::invalid_task_id);
    EXPECT_EQ(resolve(method::head, "/task/"), kind::invalid_task_id);
}

TEST_F(Router, MultiSegmentIdsAreInvalid) {
    EXPECT_EQ(resolve(method::get, "/task/a/b"), kind::invalid_task_id);
    EXPECT_EQ(resolve(method::get, "/task/a/"), kind::invalid_task_id);
    EXPECT_EQ(resolve(method::get, "/task//a"), kind::invalid_task_id);
    EXPECT_EQ(resolve(method::get, "/task/a/b?watch"), kind::invalid_task_id);
}

TEST_F(Router, EncodedAndDotIdsAreInvalid) {
    EXPECT_EQ(resolve(method::get, "/task/%41"), kind::invalid_task_id);
    EXPECT_EQ(resolve(method::get, "/task/abc%5F"), kind::invalid_task_id);
    EXPECT_EQ(resolve(method::get, "/task/."), kind::invalid_task_id);
    EXPECT_EQ(resolve(method::get, "/task/.."), kind::invalid_task_id);
    EXPECT_EQ(resolve(method::get, "/task/../healthz"), kind::invalid_task_id);
    EXPECT_EQ(resolve(method::get, "/task/a-b"), kind::invalid_task_id);
}

TEST_F(Router, IdLengthBoundary) {
    const std::string ok = "/task/" + std::string(32, 'a');
    const std::string too_long = "/task/" + std::string(33, 'a');
    EXPECT_EQ(resolve(method::get, ok), kind::task_poll);
    EXPECT_EQ(resolve(method::get, ok + "?watch"), kind::task_watch);
    EXPECT_EQ(resolve(method::get, too_long), kind::invalid_task_id);
}

TEST_F(Router, IdIsAViewIntoTheTarget) {
    const std::string target = "/task/some_id?watch";
    const route res = r.resolve(method::get, target);
    EXPECT_EQ(res.id, "some_id");
    EXPECT_EQ(res.id.data(), target.data() + 6);
}

TEST_F(Router, CustomPatternIsUsed) {
    const rpd::tasks::task_id_validator hex("^[a-f0-9-]+$", 36);
    const router custom(hex);
    EXPECT_EQ(custom.resolve(method::get, "/task/0a-ff").type, kind::task_poll);
    EXPECT_EQ(custom.resolve(method::get, "/task/a_b").type, kind::invalid_task_id);
}

// ---- the order of the checks: path, method, id, mode ------------------------------

TEST_F(Router, PathBeforeMethod) {
    EXPECT_EQ(resolve(method::other, "/nope"), kind::not_found);
    EXPECT_EQ(resolve(method::other, "/task"), kind::not_found);
}

TEST_F(Router, MethodBeforeId) {
    EXPECT_EQ(resolve(method::other, "/task/"), kind::method_not_allowed);
    EXPECT_EQ(resolve(method::other, "/task/a/b"), kind::method_not_allowed);
    EXPECT_EQ(resolve(method::other, "/task/%41"), kind::method_not_allowed);
}

TEST_F(Router, MethodBeforeMode) {
    EXPECT_EQ(resolve(method::other, "/task/abc?foo"), kind::method_not_allowed);
}

TEST_F(Router, IdBeforeMode) {
    EXPECT_EQ(resolve(method::get, "/task/a.b?foo"), kind::invalid_task_id);
    EXPECT_EQ(resolve(method::get, "/task/?foo"), kind::invalid_task_id);
    EXPECT_EQ(resolve(method::head, "/task/a/b?foo"), kind::invalid_task_id);
}

// ---- operations endpoints ----------------------------------------------------------

TEST_F(Router, Healthz) {
    EXPECT_EQ(resolve(method::get, "/healthz"), kind::healthz);
    EXPECT_EQ(resolve(method::head, "/healthz"), kind::healthz);
    EXPECT_EQ(resolve(method::options, "/healthz"), kind::method_not_allowed);
    EXPECT_EQ(resolve(method::other, "/healthz"), kind::method_not_allowed);
}

TEST_F(Router, Metrics) {
    EXPECT_EQ(resolve(method::get, "/metrics"), kind::metrics);
    EXPECT_EQ(resolve(method::head, "/metrics"), kind::metrics);
    EXPECT_EQ(resolve(method::options, "/metrics"), kind::method_not_allowed);
    EXPECT_EQ(resolve(method::other, "/metrics"), kind::method_not_allowed);
}

TEST_F(Router, OperationsRoutesCarryNoId) {
    EXPECT_TRUE(r.resolve(method::get, "/healthz").id.empty());
    EXPECT_TRUE(r.resolve(method::get, "/metrics").id.empty());
    EXPECT_TRUE(r.resolve(method::get, "/nope").id.empty());
}

} // namespace
