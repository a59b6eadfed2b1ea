#pragma once

// What the load generator (bench/loadgen) and the soak driver (bench/soak)
// share: the benchmark's task values and small measuring helpers. Neither
// links the daemon's code; both speak HTTP and RESP themselves.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <chrono>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

// Linux >= 4.2; older headers lack the name.
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace bench {

// The 107-byte JSON value of every workload (bench/run seeds the same one).
inline const std::string k_value =
    R"({"status":"done","progress":100,"result":{"rows":42,"url":"/files/report-000042.csv","sha":"9f86d081884c"}})";
inline const std::string k_pending = R"({"status":"queued","progress":0})";

inline double secs(clock_type::duration d) {
    return std::chrono::duration<double>(d).count();
}

// This process's CPU time so far.
struct cpu_sample {
    double user = 0, sys = 0;
    static cpu_sample now() {
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        return {ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
                ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6};
    }
    double total() const { return user + sys; }
};

} // namespace bench
