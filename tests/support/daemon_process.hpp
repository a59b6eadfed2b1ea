// The real redis-push-daemon binary as a child process with a temp config.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util.hpp"

namespace rpd::test {

// Path of the daemon under test (compile definition RPD_DAEMON_BIN, or the
// environment variable RPD_DAEMON_BIN when set).
std::string daemon_binary();

enum class start_wait {
    healthy,   // GET /healthz answers 200
    listening, // the HTTP port accepts a connection (Redis may be down)
    none,      // just spawn
};

// The UndefinedBehaviorSanitizer reports in a daemon's stderr, one line
// each, except the false "invalid vptr" of a daemon out of descriptors.
std::vector<std::string> undefined_behaviour_reports(const std::string& daemon_stderr);

class daemon_process {
public:
    struct options {
        nlohmann::json config = nlohmann::json::object(); // merged (RFC 7396) over the base config
        start_wait wait = start_wait::healthy;
        std::vector<std::pair<std::string, std::string>> env;
        std::chrono::milliseconds start_timeout{10000};
        // RLIMIT_NOFILE (soft = hard) of the daemon, set in the child before exec.
        std::optional<std::uint64_t> nofile_limit;
    };

    // Base config: http.address 127.0.0.1, a free http.port, redis.host
    // 127.0.0.1, redis.port = redis_port, log.level debug.
    daemon_process(std::uint16_t redis_port, options opts);
    explicit daemon_process(std::uint16_t redis_port) : daemon_process(redis_port, options{}) {}
    daemon_process(std::uint16_t redis_port, nlohmann::json config_overrides)
        : daemon_process(redis_port, with_config(std::move(config_overrides))) {}
    static options with_config(nlohmann::json config) {
        options o;
        o.config = std::move(config);
        return o;
    }
    ~daemon_process();
    daemon_process(const daemon_process&) = delete;
    daemon_process& operator=(const daemon_process&) = delete;

    std::uint16_t port() const { return port_; }
    const nlohmann::json& config() const { return config_; }
    const std::string& config_path() const { return config_path_; }
    pid_t pid() const { return proc_.pid(); }
    bool running() { return proc_.running(); }
    // Built with AddressSanitizer (the sanitize label runs the black-box
    // suites against that build): freed memory sits in ASan's quarantine and
    // every allocation has a redzone, so RSS says nothing of our memory
    // bounds there; tests check those bounds against the Release daemon only.
    bool sanitized() const;

    void signal(int sig) { proc_.signal(sig); }
    void terminate();
    // Exit code (exit_code_of) once exited, nullopt on timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    std::string stderr_text() const;
    std::string stdout_text() const;

    // GET /metrics body.
    std::string metrics();
    // Sum of every sample of `name` (all label sets), nullopt if absent.
    std::optional<double> metric(const std::string& name);

private:
    std::vector<std::pair<std::string, std::string>> child_env() const;
    bool start_once(std::chrono::milliseconds timeout);

    options opts_;
    temp_dir dir_;
    nlohmann::json config_;
    std::string config_path_;
    std::uint16_t redis_port_;
    std::uint16_t port_ = 0;
    child_process proc_;
};

// Sum of the samples of metric `name` in a Prometheus text exposition
// (lines "name value" or "name{labels} value"); nullopt if none.
std::optional<double> metric_sum(const std::string& exposition, const std::string& name);
// Value of the one sample whose labels contain every "k=\"v\"" fragment given.
std::optional<double> metric_with_labels(const std::string& exposition, const std::string& name,
                                         const std::vector<std::string>& label_fragments);

} // namespace rpd::test
