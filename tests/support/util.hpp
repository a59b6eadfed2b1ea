// Small helpers shared by the integration tests: deadlines, ports, temp dirs, processes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace rpd::test {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Polls pred every `interval` until it returns true or `timeout` passed.
// Returns the last value of pred (so a test can ASSERT_TRUE on it).
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = 10ms);

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0).
std::uint16_t free_port();

// mkdtemp under $TMPDIR (or /tmp); removed recursively on destruction
// unless RPD_IT_KEEP is set in the environment.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

private:
    std::string path_;
};

std::string read_file(const std::string& path);
void write_file(const std::string& path, std::string_view content);

// Raises the soft RLIMIT_NOFILE of this process to min(hard, wanted).
void raise_fd_limit(std::uint64_t wanted);

// A child process started with fork/exec; stdout/stderr go to files.
class child_process {
public:
    child_process() = default;
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    child_process(child_process&& other) noexcept;
    child_process& operator=(child_process&& other) noexcept;

    // argv[0] is the executable path. env_extra is added to the environment
    // (an entry with an empty value... is set to empty; use env_unset to remove).
    // nofile_limit: when set, the child's RLIMIT_NOFILE (soft and hard) is set
    // to it before exec.
    static child_process
    spawn(const std::vector<std::string>& argv, const std::string& stdout_path,
          const std::string& stderr_path,
          const std::vector<std::pair<std::string, std::string>>& env_extra = {},
          const std::vector<std::string>& env_unset = {},
          std::optional<std::uint64_t> nofile_limit = std::nullopt);

    pid_t pid() const { return pid_; }
    bool running();       // reaps if exited
    void signal(int sig); // no-op if not running
    // Waits for exit; returns the raw wait status, or nullopt on timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    std::optional<int> status() const { return status_; }
    // SIGTERM, wait up to `grace`, then SIGKILL and wait.
    void stop(std::chrono::milliseconds grace = 5000ms);
    void kill_now();

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

// Exit code of a raw wait status: exit code if exited, 128+signal if signalled.
int exit_code_of(int wait_status);

// Runs a command to completion (with a timeout, then SIGKILL).
struct run_result {
    int exit_code = -1; // exit_code_of(status); -1 on timeout
    bool timed_out = false;
    std::string out;
    std::string err;
};
run_result run_command(const std::vector<std::string>& argv,
                       std::chrono::milliseconds timeout = 10000ms,
                       const std::vector<std::pair<std::string, std::string>>& env_extra = {});

// Text helpers
bool contains(std::string_view hay, std::string_view needle);
std::string strip_leading_newlines(std::string_view s);
std::string tail(const std::string& s, std::size_t max_chars);

} // namespace rpd::test
