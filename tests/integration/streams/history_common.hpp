// Shared bits of the history tests (MODES.md 3 "History pages",
// "Flow-controlled fetch"; 6 "History direction", "Fetch").
#pragma once

#include "streams/stream_common.hpp"

namespace rpd::test {

// n entries appended in one server-side loop (fast even for 50k):
// fields kind=<kind>, n=<i> (1-based).
inline void fill(redis_client& c, const std::string& name, long long n,
                 const std::string& kind = "x") {
    c.command({"EVAL",
               "for i=1,tonumber(ARGV[1]) do redis.call('XADD', KEYS[1], '*', 'kind', ARGV[2], "
               "'n', i) end return 1",
               "1", skey(name), std::to_string(n), kind});
}

// Every id of the stream, oldest first.
inline std::vector<std::string> all_ids(redis_client& c, const std::string& name) {
    std::vector<std::string> out;
    for (auto& e : c.command({"XRANGE", skey(name), "-", "+"}).elements)
        out.push_back(e.elements.at(0).str);
    return out;
}

inline bool is_frame(const json& f, const std::string& type) {
    return f.is_object() && f.value("type", "") == type;
}

class history_test : public stream_test {
protected:
    json extra_config() override { return history_config(); }
    virtual json history_config() { return json::object(); }

    // GET /stream/<segment>/history<query>; the body parsed.
    json page(const std::string& segment, const std::string& query = "",
              http_response* raw = nullptr) {
        const auto r = get("/stream/" + segment + "/history" + query);
        if (raw != nullptr)
            *raw = r;
        EXPECT_EQ(r.status, 200) << query << ": " << r.body;
        return parse_or_null(r.body);
    }
    double fetches_active() {
        return daemon().metric("redis_push_history_fetches_active").value_or(-1);
    }
    bool wait_fetches_active(double n, std::chrono::milliseconds timeout = 5000ms) {
        return wait_until([&] { return fetches_active() == n; }, timeout, 20ms);
    }
};

} // namespace rpd::test
