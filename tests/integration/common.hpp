// Shared bits of the integration tests.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "daemon_process.hpp"
#include "http_client.hpp"
#include "redis_server.hpp"
#include "util.hpp"

namespace rpd::test {

using json = nlohmann::json;

// The exact error body of the spec: {"status":"error","error_message":"<text>"}.
inline std::string error_body(const std::string& text) {
    return R"({"status":"error","error_message":")" + text + R"("})";
}

// Checks that body is the error object with that text. The spec fixes the
// exact bytes, so compare bytes (and parse, for a clearer message).
inline ::testing::AssertionResult is_error_body(const std::string& body, const std::string& text) {
    if (body == error_body(text))
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "body is `" << body << "`, expected `" << error_body(text) << "`";
}

inline ::testing::AssertionResult is_json_content_type(const http_response& r) {
    auto ct = r.header("Content-Type");
    if (!ct)
        return ::testing::AssertionFailure() << "no Content-Type";
    auto v = *ct;
    if (v.rfind("application/json", 0) == 0 && (v.size() == 16 || v[16] == ';'))
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "Content-Type is `" << v << "`";
}

inline ::testing::AssertionResult has_no_store(const http_response& r) {
    auto cc = r.header("Cache-Control");
    if (cc && contains(*cc, "no-store"))
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "Cache-Control is `" << cc.value_or("<absent>") << "`";
}

inline ::testing::AssertionResult has_x_accel_no(const http_response& r) {
    auto v = r.header("X-Accel-Buffering");
    if (v && iequals(*v, "no"))
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "X-Accel-Buffering is `" << v.value_or("<absent>") << "`";
}

inline std::string data_key(const std::string& id, const std::string& prefix = "RA_") {
    return prefix + "D_" + id;
}
inline std::string channel(const std::string& id, const std::string& prefix = "RA_") {
    return prefix + "SC_" + id;
}

// A fresh redis-server and a daemon on it; each test gets its own.
class daemon_test : public ::testing::Test {
protected:
    // Override to change the daemon config before it starts.
    virtual json daemon_config() { return json::object(); }

    void SetUp() override {
        redis_ = std::make_unique<redis_server>();
        cli_ = std::make_unique<redis_client>(redis_->client());
        daemon_ = std::make_unique<daemon_process>(redis_->port(), daemon_config());
    }
    void TearDown() override {
        daemon_.reset();
        cli_.reset();
        redis_.reset();
    }

    std::uint16_t port() const { return daemon_->port(); }
    redis_client& cli() { return *cli_; }
    redis_server& redis() { return *redis_; }
    daemon_process& daemon() { return *daemon_; }

    std::unique_ptr<redis_server> redis_;
    std::unique_ptr<redis_client> cli_;
    std::unique_ptr<daemon_process> daemon_;
};

} // namespace rpd::test
