// The query of a queue take or mailbox poll (MODES.md 0, 1, 6).
#include "redis_push/endpoints/wait_request.hpp"

#include <gtest/gtest.h>

namespace {

using rpd::endpoints::parse_wait_request;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(WaitRequest, DefaultsWithoutParameters) {
    const auto r = parse_wait_request("", seconds(30), seconds(300));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->wait, milliseconds(30000));
    EXPECT_FALSE(r->acknowledged);
}

TEST(WaitRequest, TimeoutZeroAndClampedToTheMaximum) {
    EXPECT_EQ(parse_wait_request("timeout=0", seconds(30), seconds(300))->wait, milliseconds(0));
    EXPECT_EQ(parse_wait_request("timeout=5", seconds(30), seconds(300))->wait, milliseconds(5000));
    EXPECT_EQ(parse_wait_request("timeout=99999", seconds(30), seconds(300))->wait,
              milliseconds(300000));
}

TEST(WaitRequest, AckWithOrWithoutValueAndOthersIgnored) {
    EXPECT_TRUE(parse_wait_request("ack", seconds(30), seconds(300))->acknowledged);
    EXPECT_TRUE(parse_wait_request("x=1&ack=1&timeout=2", seconds(30), seconds(300))->acknowledged);
    EXPECT_FALSE(parse_wait_request("acknowledge", seconds(30), seconds(300))->acknowledged);
}

TEST(WaitRequest, InvalidTimeoutsAreRefused) {
    for (const char* q :
         {"timeout=-1", "timeout=", "timeout=1.5", "timeout=abc", "timeout= 1", "timeout=%zz"})
        EXPECT_FALSE(parse_wait_request(q, seconds(30), seconds(300))) << q;
}

} // namespace
