#pragma once

// A held_response that records the one answer a sink gives (unit tests of
// the long-poll sinks: batch_sink, item_sink).
#include "redis_push/http/context.hpp"
#include "redis_push/http/held_response.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rpd::testing {

namespace http = rpd::http;
namespace feed = rpd::feed;

struct recorded_response {
    unsigned status = 0;
    std::string body;
    std::string content_type;
    std::string headers;
    bool error = false;
    int answers = 0;
};

struct fake_held final : http::held_response {
    recorded_response r;
    http::request_metrics m;
    http::live_settings l{http::cors_policy(std::vector<std::string>{})};

    void respond(unsigned status, std::string_view body, http::request_result,
                 std::string_view content_type) override {
        r.status = status;
        r.body = body;
        r.content_type = content_type;
        ++r.answers;
    }
    void respond_with(unsigned status, std::string_view body, http::request_result,
                      std::string_view content_type, std::string_view extra_headers) override {
        respond(status, body, {}, content_type);
        r.headers = extra_headers;
    }
    void respond_error(unsigned status, std::string_view text, http::request_result) override {
        r.status = status;
        r.body = text;
        r.error = true;
        ++r.answers;
    }
    void begin_stream(std::string_view, std::string_view, const std::chrono::seconds*,
                      http::keepalive_bytes) override {
        ADD_FAILURE() << "a long-poll never streams";
    }
    bool streaming() const override { return false; }
    void stream(std::string_view) override { ADD_FAILURE() << "a long-poll never streams"; }
    void end_stream(std::string_view, http::request_result) override {
        ADD_FAILURE() << "a long-poll never streams";
    }
    // Kept, so a test can settle it as the session would.
    void keep_until_written(feed::receipt r) override { receipt = std::move(r); }
    feed::receipt receipt;
    http::request_metrics& metrics() override { return m; }
    const http::live_settings& live() const override { return l; }
};

} // namespace rpd::testing
