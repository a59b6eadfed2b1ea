#include "util.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace rpd::test {

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
    auto deadline = clock::now() + timeout;
    while (true) {
        if (pred())
            return true;
        if (clock::now() >= deadline)
            return pred();
        std::this_thread::sleep_for(interval);
    }
}

std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        throw std::runtime_error("bind() failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

temp_dir::temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/rpd-it-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data()))
        throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
}

temp_dir::~temp_dir() {
    if (std::getenv("RPD_IT_KEEP"))
        return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::string& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out)
        throw std::runtime_error("cannot write " + path);
}

void raise_fd_limit(std::uint64_t wanted) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t target = wanted;
    if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
        target = rl.rlim_max;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < target) {
        rl.rlim_cur = target;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

// ---------------------------------------------------------------- child_process

child_process::~child_process() {
    if (pid_ > 0 && !status_)
        stop(2000ms);
}

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(std::exchange(other.status_, std::nullopt)) {}

child_process& child_process::operator=(child_process&& other) noexcept {
    if (this != &other) {
        if (pid_ > 0 && !status_)
            stop(2000ms);
        pid_ = std::exchange(other.pid_, -1);
        status_ = std::exchange(other.status_, std::nullopt);
    }
    return *this;
}

child_process
child_process::spawn(const std::vector<std::string>& argv, const std::string& stdout_path,
                     const std::string& stderr_path,
                     const std::vector<std::pair<std::string, std::string>>& env_extra,
                     const std::vector<std::string>& env_unset,
                     std::optional<std::uint64_t> nofile_limit) {
    // Build everything before fork: only async-signal-safe calls in the child.
    std::vector<char*> args;
    for (auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    std::vector<std::string> env_store;
    for (char** e = environ; e && *e; ++e) {
        std::string_view kv(*e);
        auto eq = kv.find('=');
        std::string_view key = kv.substr(0, eq);
        bool drop = false;
        for (auto& u : env_unset)
            if (key == u)
                drop = true;
        for (auto& [k, v] : env_extra)
            if (key == k)
                drop = true;
        if (!drop)
            env_store.emplace_back(kv);
    }
    for (auto& [k, v] : env_extra)
        env_store.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_store)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    int out_fd = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out_fd < 0 || err_fd < 0 || null_fd < 0)
        throw std::runtime_error("cannot open child output files");

    pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::dup2(null_fd, 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        // Close every inherited descriptor (test sockets must not leak into the child).
#ifdef SYS_close_range
        if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
        {
            for (int fd = 3; fd < 65536; ++fd)
                ::close(fd);
        }
        if (nofile_limit) {
            rlimit rl{};
            rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(*nofile_limit);
            if (::setrlimit(RLIMIT_NOFILE, &rl) != 0)
                _exit(126);
        }
        ::signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(args[0], args.data(), envp.data());
        _exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);
    ::close(null_fd);
    child_process c;
    c.pid_ = pid;
    return c;
}

bool child_process::running() {
    if (pid_ <= 0 || status_)
        return false;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
        status_ = st;
        return false;
    }
    return true;
}

void child_process::signal(int sig) {
    if (running())
        ::kill(pid_, sig);
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0)
        return status_;
    wait_until([&] { return !running(); }, timeout, 5ms);
    return status_;
}

void child_process::stop(std::chrono::milliseconds grace) {
    if (!running())
        return;
    ::kill(pid_, SIGTERM);
    if (!wait_exit(grace))
        kill_now();
}

void child_process::kill_now() {
    if (!running())
        return;
    ::kill(pid_, SIGKILL);
    int st = 0;
    if (::waitpid(pid_, &st, 0) == pid_)
        status_ = st;
}

int exit_code_of(int st) {
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

run_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                       const std::vector<std::pair<std::string, std::string>>& env_extra) {
    temp_dir dir;
    run_result r;
    auto p = child_process::spawn(argv, dir.file("out"), dir.file("err"), env_extra);
    auto st = p.wait_exit(timeout);
    if (!st) {
        r.timed_out = true;
        p.kill_now();
    } else {
        r.exit_code = exit_code_of(*st);
    }
    r.out = read_file(dir.file("out"));
    r.err = read_file(dir.file("err"));
    return r;
}

bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

std::string strip_leading_newlines(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && s[i] == '\n')
        ++i;
    return std::string(s.substr(i));
}

std::string tail(const std::string& s, std::size_t max_chars) {
    if (s.size() <= max_chars)
        return s;
    return "..." + s.substr(s.size() - max_chars);
}

} // namespace rpd::test
