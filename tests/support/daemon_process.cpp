#include "daemon_process.hpp"

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <csignal>

#include <gtest/gtest.h>

#include "http_client.hpp"

#ifndef RPD_DAEMON_BIN
#define RPD_DAEMON_BIN "redis-push-daemon"
#endif

namespace rpd::test {

std::string daemon_binary() {
    if (const char* e = std::getenv("RPD_DAEMON_BIN"); e && *e)
        return e;
    return RPD_DAEMON_BIN;
}

daemon_process::daemon_process(std::uint16_t redis_port, options opts)
    : opts_(std::move(opts)), redis_port_(redis_port) {
    for (int attempt = 0; attempt < 4; ++attempt) {
        if (start_once(opts_.start_timeout))
            return;
        // A port collision makes the daemon exit; anything else is a real failure.
        if (!contains(stderr_text(), "ddress already in use") && !contains(stderr_text(), "bind"))
            break;
    }
    throw std::runtime_error("redis-push-daemon did not start (config " + config_.dump() +
                             "); stderr:\n" + tail(stderr_text(), 3000));
}

bool daemon_process::start_once(std::chrono::milliseconds timeout) {
    proc_.kill_now();
    port_ = free_port();
    config_ = nlohmann::json{{"http", {{"address", "127.0.0.1"}, {"port", port_}}},
                             {"redis", {{"host", "127.0.0.1"}, {"port", redis_port_}}},
                             {"log", {{"level", "debug"}}}};
    config_.merge_patch(opts_.config);
    if (config_["http"].contains("port"))
        port_ = config_["http"]["port"].get<std::uint16_t>();
    config_path_ = dir_.file("push.json");
    write_file(config_path_, config_.dump(2));
    write_file(dir_.file("stderr.log"), "");
    proc_ =
        child_process::spawn({daemon_binary(), "--config", config_path_}, dir_.file("stdout.log"),
                             dir_.file("stderr.log"), child_env(), {}, opts_.nofile_limit);
    if (opts_.wait == start_wait::none)
        return true;
    bool ok = wait_until(
        [&] {
            if (!proc_.running())
                return true;
            try {
                if (opts_.wait == start_wait::listening) {
                    http_connection c(port_, 100ms);
                    return true;
                }
                auto r = http_get(port_, "/healthz", {}, 1000ms);
                return r.status == 200;
            } catch (const std::exception&) {
                return false;
            }
        },
        timeout, 20ms);
    return ok && proc_.running();
}

// UBSan proves a vtable readable by writing it into a pipe(2); a daemon out
// of descriptors cannot make that pipe, so every vptr check that misses
// UBSan's type cache is then reported as "invalid vptr" about a perfectly
// live object (shown with a 12-line program under `ulimit -n 64`; no
// suppression file helps: it matches the type the failed check could not
// read). The sanitizer build makes only that check recoverable, and a
// daemon given a descriptor limit keeps running past it (UBSAN_OPTIONS is
// read when the first report comes, and may not be readable then). Every
// daemon's teardown fails on every report but that one.
std::vector<std::pair<std::string, std::string>> daemon_process::child_env() const {
    auto env = opts_.env;
    if (!opts_.nofile_limit)
        return env;
    for (const auto& kv : env)
        if (kv.first == "UBSAN_OPTIONS")
            return env;
    const char* inherited = std::getenv("UBSAN_OPTIONS");
    std::string options = inherited && *inherited ? std::string(inherited) + ":" : std::string();
    env.emplace_back("UBSAN_OPTIONS", options + "halt_on_error=0");
    return env;
}

std::vector<std::string> undefined_behaviour_reports(const std::string& daemon_stderr) {
    static constexpr std::string_view marker = "runtime error:";
    static constexpr std::string_view no_pipe_signature =
        "note: object has invalid vptr\n<memory cannot be printed>";
    std::vector<std::string> reports;
    for (auto at = daemon_stderr.find(marker); at != std::string::npos;
         at = daemon_stderr.find(marker, at + marker.size())) {
        const auto line_end = daemon_stderr.find('\n', at);
        const auto next_lines = daemon_stderr.substr(line_end == std::string::npos ? at : line_end,
                                                     no_pipe_signature.size() + 40);
        if (next_lines.find(no_pipe_signature) == std::string::npos)
            reports.push_back(daemon_stderr.substr(at, line_end - at));
    }
    return reports;
}

daemon_process::~daemon_process() {
    if (::testing::Test::HasFailure() && !std::getenv("RPD_IT_QUIET")) {
        std::cerr << "---- redis-push-daemon stderr (port " << port_ << ") ----\n"
                  << tail(stderr_text(), 6000) << "\n---- redis-push-daemon stdout ----\n"
                  << tail(stdout_text(), 6000) << "\n---- end ----\n";
    }
    // Every daemon a test leaves running must still stop cleanly on SIGTERM:
    // exit 0 within the grace time. Under the sanitizer build this is also
    // where AddressSanitizer/LeakSanitizer reports surface (non-zero exit).
    const bool was_running = proc_.running();
    proc_.stop(5000ms);
    if (was_running) {
        const auto st = proc_.status();
        const int code = st ? exit_code_of(*st) : -1;
        if (code != 0)
            ADD_FAILURE() << "redis-push-daemon (port " << port_ << ") exited with " << code
                          << " on SIGTERM at teardown; stderr:\n"
                          << tail(stderr_text(), 6000);
    }
    for (const auto& report : undefined_behaviour_reports(stderr_text()))
        ADD_FAILURE() << "redis-push-daemon (port " << port_ << ") " << report;
}

bool daemon_process::sanitized() const {
    return contains(read_file("/proc/" + std::to_string(proc_.pid()) + "/maps"), "libasan");
}

void daemon_process::terminate() {
    proc_.signal(SIGTERM);
}

std::optional<int> daemon_process::wait_exit(std::chrono::milliseconds timeout) {
    auto st = proc_.wait_exit(timeout);
    if (!st)
        return std::nullopt;
    return exit_code_of(*st);
}

std::string daemon_process::stderr_text() const {
    return read_file(dir_.file("stderr.log"));
}
std::string daemon_process::stdout_text() const {
    return read_file(dir_.file("stdout.log"));
}

std::string daemon_process::metrics() {
    auto r = http_get(port_, "/metrics");
    if (r.status != 200)
        throw std::runtime_error("/metrics answered " + std::to_string(r.status));
    return r.body;
}

std::optional<double> daemon_process::metric(const std::string& name) {
    return metric_sum(metrics(), name);
}

namespace {
struct sample {
    std::string name;
    std::string labels;
    double value;
};

std::vector<sample> parse_samples(const std::string& text) {
    std::vector<sample> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        sample s;
        std::size_t pos = 0;
        auto brace = line.find('{');
        auto space = line.find(' ');
        if (brace != std::string::npos && (space == std::string::npos || brace < space)) {
            s.name = line.substr(0, brace);
            auto close = line.find('}', brace);
            if (close == std::string::npos)
                continue;
            s.labels = line.substr(brace + 1, close - brace - 1);
            pos = close + 1;
        } else {
            if (space == std::string::npos)
                continue;
            s.name = line.substr(0, space);
            pos = space;
        }
        std::istringstream vs(line.substr(pos));
        std::string v;
        vs >> v;
        try {
            s.value = std::stod(v);
        } catch (...) {
            continue;
        }
        out.push_back(std::move(s));
    }
    return out;
}
} // namespace

std::optional<double> metric_sum(const std::string& exposition, const std::string& name) {
    std::optional<double> sum;
    for (auto& s : parse_samples(exposition))
        if (s.name == name)
            sum = sum.value_or(0) + s.value;
    return sum;
}

std::optional<double> metric_with_labels(const std::string& exposition, const std::string& name,
                                         const std::vector<std::string>& label_fragments) {
    std::optional<double> sum;
    for (auto& s : parse_samples(exposition)) {
        if (s.name != name)
            continue;
        bool all = true;
        for (auto& f : label_fragments)
            if (!contains(s.labels, f))
                all = false;
        if (all)
            sum = sum.value_or(0) + s.value;
    }
    return sum;
}

} // namespace rpd::test
