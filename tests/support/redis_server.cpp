#include "redis_server.hpp"

#include <cstring>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <csignal>

#include <sys/time.h>

#include <hiredis/hiredis.h>

namespace rpd::test {

static const char* kRedisServer = "/usr/bin/redis-server";

static redis_value flatten(const redisReply* r) {
    redis_value v;
    if (!r)
        return v;
    switch (r->type) {
    case REDIS_REPLY_STRING:
        v.type = redis_value::kind::string;
        v.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_STATUS:
        v.type = redis_value::kind::status;
        v.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ERROR:
        v.type = redis_value::kind::error;
        v.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER:
        v.type = redis_value::kind::integer;
        v.integer = r->integer;
        break;
    case REDIS_REPLY_ARRAY:
        v.type = redis_value::kind::array;
        for (std::size_t i = 0; i < r->elements; ++i)
            v.elements.push_back(flatten(r->element[i]));
        break;
    default:
        v.type = redis_value::kind::nil;
    }
    return v;
}

redis_client::redis_client(std::uint16_t port, std::string name, std::string username,
                           std::string password, std::string unix_path) {
    timeval tv{2, 0};
    ctx_ = unix_path.empty() ? redisConnectWithTimeout("127.0.0.1", port, tv)
                             : redisConnectUnixWithTimeout(unix_path.c_str(), tv);
    if (!ctx_ || ctx_->err) {
        std::string msg = ctx_ ? ctx_->errstr : "alloc failed";
        if (ctx_)
            redisFree(ctx_);
        ctx_ = nullptr;
        throw std::runtime_error("redis connect to port " + std::to_string(port) + ": " + msg);
    }
    redisSetTimeout(ctx_, timeval{5, 0});
    if (!password.empty()) {
        if (username.empty())
            command({"AUTH", password});
        else
            command({"AUTH", username, password});
    }
    if (!name.empty())
        command({"CLIENT", "SETNAME", name});
}

redis_client::~redis_client() {
    if (ctx_)
        redisFree(ctx_);
}

redis_client::redis_client(redis_client&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)) {}
redis_client& redis_client::operator=(redis_client&& o) noexcept {
    if (this != &o) {
        if (ctx_)
            redisFree(ctx_);
        ctx_ = std::exchange(o.ctx_, nullptr);
    }
    return *this;
}

redis_value redis_client::command(const std::vector<std::string>& args) {
    if (!ctx_)
        throw std::runtime_error("redis client not connected");
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (!r)
        throw std::runtime_error(std::string("redis command ") + args[0] +
                                 " failed: " + ctx_->errstr);
    auto v = flatten(r);
    freeReplyObject(r);
    if (v.type == redis_value::kind::error)
        throw std::runtime_error("redis error reply to " + args[0] + ": " + v.str);
    return v;
}

void redis_client::set(const std::string& key, const std::string& value) {
    command({"SET", key, value});
}

std::optional<std::string> redis_client::get(const std::string& key) {
    auto v = command({"GET", key});
    if (v.type == redis_value::kind::nil)
        return std::nullopt;
    return v.str;
}

long long redis_client::publish(const std::string& channel, const std::string& message) {
    return command({"PUBLISH", channel, message}).integer;
}

long long redis_client::numsub(const std::string& channel) {
    auto v = command({"PUBSUB", "NUMSUB", channel});
    if (v.elements.size() != 2)
        throw std::runtime_error("unexpected PUBSUB NUMSUB reply");
    return v.elements[1].integer;
}

std::vector<std::string> redis_client::channels(const std::string& pattern) {
    auto v = command({"PUBSUB", "CHANNELS", pattern});
    std::vector<std::string> out;
    for (auto& e : v.elements)
        out.push_back(e.str);
    return out;
}

std::string redis_client::client_list() {
    return command({"CLIENT", "LIST"}).str;
}

std::size_t redis_client::foreign_client_count() {
    std::istringstream in(client_list());
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
        if (line.empty())
            continue;
        if (line.find(" name=rpd-it-") != std::string::npos)
            continue;
        ++n;
    }
    return n;
}

void redis_client::subscribe(const std::string& channel) {
    auto v = command({"SUBSCRIBE", channel});
    if (v.type != redis_value::kind::array || v.elements.size() != 3 ||
        v.elements[0].str != "subscribe")
        throw std::runtime_error("unexpected SUBSCRIBE reply");
}

std::optional<std::pair<std::string, std::string>>
redis_client::next_message(std::chrono::milliseconds timeout) {
    auto ms = timeout.count();
    redisSetTimeout(ctx_, timeval{static_cast<time_t>(ms / 1000),
                                  static_cast<suseconds_t>((ms % 1000) * 1000)});
    while (true) {
        void* raw = nullptr;
        if (redisGetReply(ctx_, &raw) != REDIS_OK || !raw)
            return std::nullopt; // timeout or error
        auto v = flatten(static_cast<redisReply*>(raw));
        freeReplyObject(raw);
        if (v.type == redis_value::kind::array && v.elements.size() == 3 &&
            v.elements[0].str == "message")
            return std::make_pair(v.elements[1].str, v.elements[2].str);
    }
}

// ---------------------------------------------------------------- redis_server

redis_server::redis_server() : redis_server(options{}) {}

redis_server::redis_server(options opts) : opts_(std::move(opts)) {
    for (int attempt = 0; attempt < 8; ++attempt) {
        if (start_on(free_port(), 5000ms))
            return;
    }
    throw std::runtime_error("could not start redis-server; log:\n" + tail(log(), 2000));
}

redis_server::~redis_server() {
    resume();
    proc_.kill_now();
}

bool redis_server::start_on(std::uint16_t port, std::chrono::milliseconds timeout) {
    std::vector<std::string> argv = {
        kRedisServer,   "--port", std::to_string(port), "--bind",       "127.0.0.1",
        "--save",       "",       "--appendonly",       "no",           "--daemonize",
        "no",           "--dir",  dir_.path(),          "--dbfilename", "dump.rdb",
        "--maxclients", "10000"};
    if (opts_.unix_socket) {
        argv.push_back("--unixsocket");
        argv.push_back(unix_socket_path());
        argv.push_back("--unixsocketperm");
        argv.push_back("700");
    }
    for (auto& a : opts_.extra_args)
        argv.push_back(a);
    proc_ = child_process::spawn(argv, dir_.file("redis.log"), dir_.file("redis.log"));
    port_ = port;
    bool up = wait_until(
        [&] {
            if (!proc_.running())
                return true; // stop waiting: it died
            try {
                auto c = client();
                return c.command({"PING"}).str == "PONG";
            } catch (const std::exception&) {
                return false;
            }
        },
        timeout, 10ms);
    if (!up || !proc_.running()) {
        proc_.kill_now();
        return false;
    }
    return true;
}

void redis_server::pause() {
    if (paused_ || !proc_.running())
        return;
    proc_.signal(SIGSTOP);
    paused_ = true;
    // The signal is delivered asynchronously: return once the kernel shows
    // the process as stopped ('T' in /proc/<pid>/stat), so that the caller
    // knows Redis answers nothing from now on.
    wait_until(
        [&] {
            auto stat = read_file("/proc/" + std::to_string(proc_.pid()) + "/stat");
            auto paren = stat.rfind(')');
            return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'T';
        },
        2000ms, 1ms);
}

void redis_server::resume() {
    if (!paused_)
        return;
    paused_ = false;
    proc_.signal(SIGCONT);
}

void redis_server::stop() {
    resume();
    proc_.stop(5000ms);
}

void redis_server::kill() {
    resume();
    proc_.kill_now();
}

void redis_server::restart() {
    resume();
    proc_.kill_now();
    // The port may need a moment if something grabbed it; retry for a while.
    for (int attempt = 0; attempt < 20; ++attempt) {
        if (start_on(port_, 3000ms))
            return;
        std::this_thread::sleep_for(100ms);
    }
    throw std::runtime_error("could not restart redis-server on port " + std::to_string(port_) +
                             "; log:\n" + tail(log(), 2000));
}

redis_client redis_server::client(const std::string& name) const {
    return redis_client(port_, name, opts_.username, opts_.password);
}

std::string redis_server::log() const {
    return read_file(dir_.file("redis.log"));
}

} // namespace rpd::test
