// systemd integration: the notify protocol (READY/STATUS/STOPPING/WATCHDOG)
// over a fake NOTIFY_SOCKET, SIGHUP reloads, log.file re-opening, and the
// file descriptor limit.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.hpp"

using namespace rpd::test;

namespace {

// A unix datagram socket standing in for systemd's notify socket. Every
// datagram is one notification: newline-separated VAR=value assignments.
class notify_socket {
public:
    // A path in the file system, or (abstract = true) an abstract socket
    // whose NOTIFY_SOCKET value starts with '@'.
    explicit notify_socket(bool abstract = false) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0)
            throw std::runtime_error("socket(AF_UNIX, SOCK_DGRAM)");
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        socklen_t len;
        if (abstract) {
            static std::atomic<int> n{0};
            name_ = "@rpd-it-notify-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
            std::memcpy(addr.sun_path + 1, name_.data() + 1, name_.size() - 1);
            len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
        } else {
            name_ = dir_.file("notify.sock");
            std::memcpy(addr.sun_path, name_.c_str(), name_.size() + 1);
            len = static_cast<socklen_t>(sizeof(addr));
        }
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0)
            throw std::runtime_error("bind " + name_ + ": " + std::strerror(errno));
    }
    ~notify_socket() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    notify_socket(const notify_socket&) = delete;
    notify_socket& operator=(const notify_socket&) = delete;

    const std::string& name() const { return name_; }

    // Next datagram, nullopt on timeout.
    std::optional<std::string> next(std::chrono::milliseconds timeout) {
        const auto deadline = clock::now() + timeout;
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            pollfd p{fd_, POLLIN, 0};
            const int r = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left.count())));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return std::nullopt;
            char buf[4096];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN)
                    continue;
                return std::nullopt;
            }
            std::string msg(buf, static_cast<std::size_t>(n));
            received_.push_back(msg);
            return msg;
        }
    }

    // Reads datagrams until one holds the line `line` (e.g. "READY=1").
    // Returns true when found within the timeout; every datagram read meanwhile
    // is kept in received().
    bool wait_line(const std::string& line, std::chrono::milliseconds timeout) {
        const auto deadline = clock::now() + timeout;
        while (clock::now() < deadline) {
            auto m = next(
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
            if (!m)
                return false;
            if (has_line(*m, line))
                return true;
        }
        return false;
    }

    // Everything received so far, oldest first.
    const std::vector<std::string>& received() const { return received_; }
    std::string dump() const {
        std::string out;
        for (auto& m : received_)
            out += "[" + m + "] ";
        return out;
    }

    static std::vector<std::string> lines(const std::string& msg) {
        std::vector<std::string> out;
        std::istringstream in(msg);
        std::string l;
        while (std::getline(in, l))
            if (!l.empty())
                out.push_back(l);
        return out;
    }
    static bool has_line(const std::string& msg, const std::string& line) {
        for (auto& l : lines(msg))
            if (l == line)
                return true;
        return false;
    }
    // Index of the first datagram that has a line starting with `prefix`, or -1.
    long index_of(const std::string& prefix) const {
        for (std::size_t i = 0; i < received_.size(); ++i)
            for (auto& l : lines(received_[i]))
                if (l.rfind(prefix, 0) == 0)
                    return static_cast<long>(i);
        return -1;
    }

private:
    temp_dir dir_;
    int fd_ = -1;
    std::string name_;
    std::vector<std::string> received_;
};

// A daemon started directly (not through daemon_process) with full control
// of its environment: NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID.
class notified_daemon {
public:
    notified_daemon(std::uint16_t redis_port,
                    const std::vector<std::pair<std::string, std::string>>& env,
                    bool watchdog_pid_is_self = false, json overrides = json::object()) {
        port_ = free_port();
        json cfg = {
            {"http", {{"address", "127.0.0.1"}, {"port", port_}}},
            {"redis", {{"host", "127.0.0.1"}, {"port", redis_port}, {"connect_timeout_ms", 500}}},
            {"log", {{"level", "debug"}}}};
        cfg.merge_patch(overrides);
        write_file(dir_.file("push.json"), cfg.dump(2));
        std::vector<std::string> argv = {daemon_binary(), "--config", dir_.file("push.json")};
        if (watchdog_pid_is_self)
            // The shell execs the daemon, so $$ is the daemon's pid.
            argv = {"/bin/sh", "-c",    "WATCHDOG_PID=$$; export WATCHDOG_PID; exec \"$0\" \"$@\"",
                    argv[0],   argv[1], argv[2]};
        proc_ = child_process::spawn(
            argv, dir_.file("stdout.log"), dir_.file("stderr.log"), env,
            {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID"});
    }
    ~notified_daemon() {
        if (::testing::Test::HasFailure())
            std::cerr << "---- redis-push-daemon stderr (port " << port_ << ") ----\n"
                      << tail(stderr_text(), 6000) << "\n---- end ----\n";
        // Like daemon_process: a daemon still running at teardown must exit
        // 0 on SIGTERM, so ASan/LSan reports at exit fail the test.
        const bool was_running = proc_.running();
        proc_.stop(5000ms);
        if (was_running && (!proc_.status() || exit_code_of(*proc_.status()) != 0))
            ADD_FAILURE() << "redis-push-daemon (port " << port_ << ") did not exit 0 on SIGTERM "
                          << "at teardown:\n"
                          << tail(stderr_text(), 6000);
    }
    std::uint16_t port() const { return port_; }
    pid_t pid() const { return proc_.pid(); }
    bool running() { return proc_.running(); }
    void signal(int sig) { proc_.signal(sig); }
    std::optional<int> wait_exit(std::chrono::milliseconds t) {
        auto st = proc_.wait_exit(t);
        if (!st)
            return std::nullopt;
        return exit_code_of(*st);
    }
    std::string stderr_text() const { return read_file(dir_.file("stderr.log")); }

private:
    temp_dir dir_;
    std::uint16_t port_ = 0;
    child_process proc_;
};

bool healthy(std::uint16_t port) {
    try {
        return http_get(port, "/healthz", {}, 1000ms).status == 200;
    } catch (const std::exception&) {
        return false;
    }
}

bool listening(std::uint16_t port) {
    try {
        http_connection c(port, 200ms);
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

// ------------------------------------------------------------ notify protocol

TEST(SystemdNotify, ReadyOnceListeningAndRedisUpThenStoppingOnSigterm) {
    redis_server redis;
    notify_socket sock;
    notified_daemon d(redis.port(), {{"NOTIFY_SOCKET", sock.name()}});
    ASSERT_TRUE(sock.wait_line("READY=1", 10000ms)) << "received: " << sock.dump();
    // READY=1 means it serves now: listening, and Redis is up.
    EXPECT_TRUE(listening(d.port()));
    EXPECT_TRUE(healthy(d.port()));
    // Exactly one READY=1 so far, and nothing about stopping.
    long readies = 0;
    for (auto& m : sock.received())
        readies += notify_socket::has_line(m, "READY=1");
    EXPECT_EQ(readies, 1) << sock.dump();
    EXPECT_EQ(sock.index_of("STOPPING=1"), -1) << sock.dump();
    // No watchdog pings without WATCHDOG_USEC.
    EXPECT_EQ(sock.index_of("WATCHDOG=1"), -1) << sock.dump();

    d.signal(SIGTERM);
    EXPECT_TRUE(sock.wait_line("STOPPING=1", 5000ms)) << "received: " << sock.dump();
    auto code = d.wait_exit(8000ms);
    ASSERT_TRUE(code) << "daemon did not exit after SIGTERM";
    EXPECT_EQ(*code, 0);
    // Nothing claims readiness after STOPPING=1.
    const auto stop_at = sock.index_of("STOPPING=1");
    for (std::size_t i = static_cast<std::size_t>(stop_at) + 1; i < sock.received().size(); ++i)
        EXPECT_FALSE(notify_socket::has_line(sock.received()[i], "READY=1")) << sock.dump();
}

TEST(SystemdNotify, AbstractNotifySocket) {
    redis_server redis;
    notify_socket sock(/*abstract=*/true);
    notified_daemon d(redis.port(), {{"NOTIFY_SOCKET", sock.name()}});
    EXPECT_TRUE(sock.wait_line("READY=1", 10000ms))
        << "NOTIFY_SOCKET=" << sock.name() << " received: " << sock.dump();
}

TEST(SystemdNotify, WithoutNotifySocketTheDaemonRunsAsUsual) {
    redis_server redis;
    notified_daemon d(redis.port(), {});
    ASSERT_TRUE(wait_until([&] { return healthy(d.port()); }, 10000ms));
    d.signal(SIGTERM);
    auto code = d.wait_exit(8000ms);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 0);
}

TEST(SystemdNotify, StatusSaysWaitingForRedisUntilItComesThenReady) {
    redis_server redis;
    const auto redis_port = redis.port();
    redis.stop(); // Redis absent at start-up
    notify_socket sock;
    notified_daemon d(redis_port, {{"NOTIFY_SOCKET", sock.name()}});
    ASSERT_TRUE(wait_until([&] { return listening(d.port()) || !d.running(); }, 10000ms));
    ASSERT_TRUE(d.running()) << "the daemon exited without Redis";

    // A STATUS= mentioning Redis arrives, and no READY=1 while Redis is away.
    bool status_seen = false;
    const auto until = clock::now() + 2500ms;
    while (clock::now() < until) {
        auto m = sock.next(100ms);
        if (!m)
            continue;
        EXPECT_FALSE(notify_socket::has_line(*m, "READY=1"))
            << "READY=1 without Redis: " << sock.dump();
        for (auto& l : notify_socket::lines(*m))
            if (l.rfind("STATUS=", 0) == 0 && (contains(l, "Redis") || contains(l, "redis")))
                status_seen = true;
    }
    EXPECT_TRUE(status_seen) << "no STATUS= about Redis; received: " << sock.dump();
    EXPECT_FALSE(healthy(d.port()));

    redis.restart(); // same port
    ASSERT_TRUE(sock.wait_line("READY=1", 15000ms))
        << "no READY=1 after Redis came; received: " << sock.dump();
    EXPECT_TRUE(healthy(d.port()));
    const long status_at = [&] {
        for (std::size_t i = 0; i < sock.received().size(); ++i)
            for (auto& l : notify_socket::lines(sock.received()[i]))
                if (l.rfind("STATUS=", 0) == 0 && contains(l, "edis"))
                    return static_cast<long>(i);
        return -1L;
    }();
    EXPECT_GE(status_at, 0);
    EXPECT_LT(status_at, sock.index_of("READY=1")) << sock.dump();
}

// Counts WATCHDOG=1 datagrams over `window`.
int count_watchdogs(notify_socket& sock, std::chrono::milliseconds window) {
    int n = 0;
    const auto until = clock::now() + window;
    while (clock::now() < until) {
        auto m =
            sock.next(std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now()));
        if (m && notify_socket::has_line(*m, "WATCHDOG=1"))
            ++n;
    }
    return n;
}

TEST(SystemdNotify, WatchdogEveryHalfIntervalWithoutWatchdogPid) {
    redis_server redis;
    notify_socket sock;
    notified_daemon d(redis.port(), {{"NOTIFY_SOCKET", sock.name()}, {"WATCHDOG_USEC", "200000"}});
    ASSERT_TRUE(sock.wait_line("READY=1", 10000ms)) << sock.dump();
    // 200 ms watchdog: a ping every 100 ms, so about 15 in 1.5 s. Allow a
    // loaded machine some slack, but a ping per full interval is too late.
    const int n = count_watchdogs(sock, 1500ms);
    EXPECT_GE(n, 8) << sock.dump();
    EXPECT_LE(n, 40) << sock.dump();
}

TEST(SystemdNotify, WatchdogWhenWatchdogPidIsTheDaemon) {
    redis_server redis;
    notify_socket sock;
    notified_daemon d(redis.port(), {{"NOTIFY_SOCKET", sock.name()}, {"WATCHDOG_USEC", "200000"}},
                      /*watchdog_pid_is_self=*/true);
    ASSERT_TRUE(sock.wait_line("READY=1", 10000ms)) << sock.dump();
    EXPECT_GE(count_watchdogs(sock, 1000ms), 5) << sock.dump();
    // The watchdog keeps going while clients are served.
    {
        auto c = redis.client();
        c.set(data_key("wd"), R"({"status":"running"})");
        for (int i = 0; i < 20; ++i)
            EXPECT_EQ(http_get(d.port(), "/task/wd").status, 200);
    }
    EXPECT_GE(count_watchdogs(sock, 500ms), 2) << sock.dump();
    d.signal(SIGTERM);
    EXPECT_TRUE(sock.wait_line("STOPPING=1", 5000ms)) << sock.dump();
    ASSERT_TRUE(d.wait_exit(8000ms));
}

TEST(SystemdNotify, NoWatchdogWhenWatchdogPidIsAnotherProcess) {
    redis_server redis;
    notify_socket sock;
    notified_daemon d(redis.port(), {{"NOTIFY_SOCKET", sock.name()},
                                     {"WATCHDOG_USEC", "200000"},
                                     {"WATCHDOG_PID", std::to_string(::getpid())}});
    ASSERT_TRUE(sock.wait_line("READY=1", 10000ms)) << sock.dump();
    EXPECT_EQ(count_watchdogs(sock, 700ms), 0) << sock.dump();
    EXPECT_EQ(sock.index_of("WATCHDOG=1"), -1) << sock.dump();
}

// ------------------------------------------------------------------ SIGHUP

class Sighup : public daemon_test {
protected:
    // Rewrites the daemon's config file with `patch` merged in, then SIGHUP.
    void reload_with(const json& patch) {
        json cfg = daemon().config();
        cfg.merge_patch(patch);
        write_file(daemon().config_path(), cfg.dump(2));
        daemon().signal(SIGHUP);
    }
    bool log_has(const std::string& text, std::chrono::milliseconds timeout = 3000ms) {
        return wait_until([&] { return contains(daemon().stderr_text(), text); }, timeout);
    }
};

TEST_F(Sighup, LogLevelAndKeepaliveChangesAreLoggedAndTakeEffect) {
    // Base config: log.level debug, keepalive 10 s.
    reload_with({{"log", {{"level", "info"}}}, {"watch", {{"keepalive_seconds", 1}}}});
    EXPECT_TRUE(log_has("log.level")) << daemon().stderr_text();
    EXPECT_TRUE(log_has("keepalive")) << daemon().stderr_text();
    const auto log = daemon().stderr_text();
    EXPECT_TRUE(contains(log, "debug") && contains(log, "info"))
        << "old and new log.level: " << log;
    EXPECT_FALSE(contains(log, "restart")) << "these settings need no restart: " << log;

    // The new keepalive applies: a new watch gets "\n" within about 1 s.
    cli().set(data_key("ka"), R"({"status":"running"})");
    watch_client w(port(), "ka");
    ASSERT_TRUE(w.wait_established());
    EXPECT_TRUE(w.conn().read_body_at_least(1, 3000ms)) << "no keepalive newline after the reload";
    EXPECT_EQ(w.raw_body().find_first_not_of('\n'), std::string::npos) << w.raw_body();
    EXPECT_TRUE(healthy(port()));
}

TEST_F(Sighup, RaisingTheLogLevelAboveInfoIsStillLogged) {
    reload_with({{"log", {{"level", "warn"}}}});
    EXPECT_TRUE(log_has("log.level"))
        << "a change of log.level to warn is not in the log: " << daemon().stderr_text();
}

TEST_F(Sighup, CorsOriginsChangeTakesEffect) {
    const header_list origin = {{"Origin", "http://app.example"}};
    EXPECT_FALSE(http_get(port(), "/task/x", origin).has_header("Access-Control-Allow-Origin"));
    reload_with({{"http", {{"cors_origins", {"http://app.example"}}}}});
    EXPECT_TRUE(log_has("cors_origins")) << daemon().stderr_text();
    ASSERT_TRUE(wait_until(
        [&] {
            return http_get(port(), "/task/x", origin).header("Access-Control-Allow-Origin") ==
                   "http://app.example";
        },
        3000ms));
}

TEST_F(Sighup, PortChangeSaysRestartNeededAndKeepsServing) {
    const auto old_port = port();
    json cfg = daemon().config();
    reload_with({{"http", {{"port", static_cast<int>(free_port())}}}});
    EXPECT_TRUE(log_has("restart"))
        << "a changed http.port must be reported as needing a restart: " << daemon().stderr_text();
    EXPECT_TRUE(contains(daemon().stderr_text(), "http")) << daemon().stderr_text();
    EXPECT_TRUE(healthy(old_port)) << "still serving on the old port";
    EXPECT_TRUE(daemon().running());
    // Restore the file so that nothing else differs at teardown.
    write_file(daemon().config_path(), cfg.dump(2));
}

TEST_F(Sighup, BadConfigFileKeepsTheOldSettings) {
    write_file(daemon().config_path(), "{ not json");
    daemon().signal(SIGHUP);
    EXPECT_TRUE(wait_until([&] { return contains(daemon().stderr_text(), "SIGHUP"); }, 3000ms))
        << daemon().stderr_text();
    EXPECT_TRUE(daemon().running());
    EXPECT_TRUE(healthy(port()));
}

// ----------------------------------------------------------------- log.file

class LogFile : public ::testing::Test {
protected:
    temp_dir logs_;
};

TEST_F(LogFile, SighupAfterRenameCreatesANewFile) {
    redis_server redis;
    const auto file = logs_.file("daemon.log");
    daemon_process d(redis.port(), json{{"log", {{"file", file}}}});
    ASSERT_TRUE(wait_until([&] { return !read_file(file).empty(); }, 3000ms))
        << "nothing written to log.file";
    EXPECT_TRUE(contains(read_file(file), "listening")) << read_file(file);

    // logrotate: rename, then SIGHUP.
    const auto rotated = logs_.file("daemon.log.1");
    ASSERT_EQ(std::rename(file.c_str(), rotated.c_str()), 0);
    const auto rotated_size = read_file(rotated).size();
    d.signal(SIGHUP);
    ASSERT_TRUE(wait_until([&] { return ::access(file.c_str(), F_OK) == 0; }, 3000ms))
        << "no new log file after SIGHUP";
    EXPECT_TRUE(wait_until([&] { return !read_file(file).empty(); }, 3000ms))
        << "the new log file stays empty";

    // Later lines go to the new file, not the renamed one.
    const auto before = read_file(file).size();
    redis_client c = redis.client();
    c.set(data_key("lf"), R"({"status":"running"})");
    EXPECT_EQ(http_get(d.port(), "/task/lf").status, 200);
    d.signal(SIGHUP); // one more info line for sure
    EXPECT_TRUE(wait_until([&] { return read_file(file).size() > before; }, 3000ms))
        << read_file(file);
    EXPECT_LE(read_file(rotated).size(), rotated_size + 200)
        << "the renamed file keeps growing: " << read_file(rotated).substr(rotated_size);
}

TEST_F(LogFile, UnwritableLogFileStopsStartUp) {
    redis_server redis;
    temp_dir cfg_dir;
    const auto cfg = cfg_dir.file("push.json");
    // A regular file where the log's folder should be: not even root can
    // create the log file there (a missing folder would just be created).
    write_file(logs_.file("not-a-folder"), "x");
    write_file(cfg, json{{"http", {{"port", free_port()}}},
                         {"redis", {{"port", redis.port()}}},
                         {"log", {{"file", logs_.file("not-a-folder/daemon.log")}}}}
                        .dump());
    auto r = run_command({daemon_binary(), "--config", cfg}, 10000ms);
    EXPECT_FALSE(r.timed_out) << "the daemon ran although its log file cannot be opened";
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(contains(r.err, "log")) << r.err;
}

// ------------------------------------------------------------ RLIMIT_NOFILE

TEST(FdLimit, SoftLimitRaisedToTheHardLimit) {
    rlimit lim{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max <= 256)
        GTEST_SKIP() << "hard limit too low to lower the soft one";
    redis_server redis;
    temp_dir dir;
    const auto port = free_port();
    write_file(dir.file("push.json"), json{{"http", {{"address", "127.0.0.1"}, {"port", port}}},
                                           {"redis", {{"port", redis.port()}}}}
                                          .dump());
    // Start with a low soft limit; the daemon raises it to the hard one.
    auto p =
        child_process::spawn({"/bin/sh", "-c", "ulimit -S -n 256 && exec \"$0\" --config \"$1\"",
                              daemon_binary(), dir.file("push.json")},
                             dir.file("out.log"), dir.file("err.log"));
    ASSERT_TRUE(wait_until([&] { return healthy(port) || !p.running(); }, 10000ms));
    ASSERT_TRUE(p.running()) << read_file(dir.file("err.log"));
    std::ifstream limits("/proc/" + std::to_string(p.pid()) + "/limits");
    std::string line, soft, hard;
    while (std::getline(limits, line))
        if (line.rfind("Max open files", 0) == 0) {
            std::istringstream in(line.substr(14));
            in >> soft >> hard;
        }
    EXPECT_EQ(soft, hard) << "soft " << soft << ", hard " << hard;
    EXPECT_NE(soft, "256");
    EXPECT_TRUE(contains(read_file(dir.file("err.log")), "file descriptor"))
        << read_file(dir.file("err.log"));
    p.stop(5000ms);
    ASSERT_TRUE(p.status());
    EXPECT_EQ(exit_code_of(*p.status()), 0) << read_file(dir.file("err.log"));
}

} // namespace
