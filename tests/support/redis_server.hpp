// A throw-away redis-server child on a free loopback port, and a small
// hiredis (sync) client for the test's own commands.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util.hpp"

struct redisContext;
struct redisReply;

namespace rpd::test {

// Result of one Redis command, flattened.
struct redis_value {
    enum class kind { nil, string, integer, array, status, error } type = kind::nil;
    std::string str;
    long long integer = 0;
    std::vector<redis_value> elements;
};

class redis_client {
public:
    // Connects to 127.0.0.1:port (or a unix socket when unix_path is set) and
    // names the connection `name` (CLIENT SETNAME) so tests can tell it apart.
    explicit redis_client(std::uint16_t port, std::string name = "rpd-it-client",
                          std::string username = {}, std::string password = {},
                          std::string unix_path = {});
    ~redis_client();
    redis_client(const redis_client&) = delete;
    redis_client& operator=(const redis_client&) = delete;
    redis_client(redis_client&&) noexcept;
    redis_client& operator=(redis_client&&) noexcept;

    // Throws std::runtime_error on I/O errors and on an error reply.
    redis_value command(const std::vector<std::string>& args);

    void set(const std::string& key, const std::string& value);
    std::optional<std::string> get(const std::string& key);
    long long publish(const std::string& channel, const std::string& message);
    long long numsub(const std::string& channel);
    std::vector<std::string> channels(const std::string& pattern);
    std::string client_list();
    // Number of connected clients other than those named with the test's names (prefix "rpd-it-").
    std::size_t foreign_client_count();

    // Subscriber mode: SUBSCRIBE, then read pushed messages with a timeout.
    void subscribe(const std::string& channel);
    // Returns {channel, payload} of the next "message", nullopt on timeout.
    std::optional<std::pair<std::string, std::string>>
    next_message(std::chrono::milliseconds timeout);

private:
    redisContext* ctx_ = nullptr;
};

class redis_server {
public:
    struct options {
        std::vector<std::string> extra_args;
        std::string username; // for the test's own clients
        std::string password;
        bool unix_socket = false; // also listen on <dir>/redis.sock
    };

    redis_server();
    explicit redis_server(options opts);
    ~redis_server();
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    std::uint16_t port() const { return port_; }
    const std::string& dir() const { return dir_.path(); }
    std::string unix_socket_path() const { return dir_.file("redis.sock"); }
    bool running() { return proc_.running(); }
    pid_t pid() const { return proc_.pid(); }

    // SIGSTOP: the server keeps its sockets (the kernel still accepts
    // connections) but answers nothing until resume(). stop(), kill(),
    // restart() and the destructor resume a paused server first.
    void pause();
    // SIGCONT after pause(); no-op otherwise.
    void resume();
    bool paused() const { return paused_; }

    // SIGTERM and wait.
    void stop();
    // SIGKILL and wait (simulates a crash).
    void kill();
    // Starts again on the same port; waits until PING answers.
    void restart();

    redis_client client(const std::string& name = "rpd-it-client") const;
    std::string log() const;

private:
    bool start_on(std::uint16_t port, std::chrono::milliseconds timeout);

    options opts_;
    temp_dir dir_;
    std::uint16_t port_ = 0;
    child_process proc_;
    bool paused_ = false;
};

} // namespace rpd::test
