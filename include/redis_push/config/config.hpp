#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace rpd::config {

// One aggregate for the whole daemon; the defaults here are the documented
// defaults (docs/config.md), so a missing key never needs special handling.
struct http_settings {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8888;
    bool always_200 = false;
    std::vector<std::string> cors_origins;
    std::uint32_t max_connections = 100000;
    std::chrono::seconds request_timeout{30};
    std::chrono::seconds idle_timeout{60};
    std::uint32_t max_header_bytes = 8192;
    // Output one connection may hold in the daemon beyond what the kernel
    // took; a client that lets more pile up is dropped (docs/reliability.md).
    std::uint32_t max_output_bytes = 1048576;
    std::string static_dir; // empty: serve no files

    bool operator==(const http_settings&) const = default;
};

struct redis_settings {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string unix_socket;
    std::string username;
    std::string password;
    std::uint32_t db = 0;
    std::string prefix = "RA_";
    std::uint32_t subscriber_connections = 4;
    std::chrono::milliseconds connect_timeout{2000};
    // A command unanswered this long means Redis is stuck: reconnect.
    std::chrono::milliseconds command_timeout{2000};

    bool operator==(const redis_settings&) const = default;
};

struct task_settings {
    std::string id_pattern = "^[A-Za-z0-9_]+$";
    std::uint32_t max_id_length = 32;
    // Signed task ids: empty = off. signing_secret_file is read into
    // signing_secret by load_file, so the rest of the daemon sees one key.
    std::string signing_secret;
    std::string signing_secret_file;
    std::uint32_t signature_bytes = 16;

    bool operator==(const task_settings&) const = default;
};

struct watch_settings {
    std::chrono::seconds keepalive{10}; // zero disables
    std::chrono::seconds timeout{0};    // zero means no limit

    bool operator==(const watch_settings&) const = default;
};

// Server-sent events (MODES.md 3 and 6); SIGHUP applies both to running streams.
struct sse_settings {
    std::chrono::milliseconds retry{3000}; // the `retry:` field sent first
    std::chrono::seconds keepalive{15};    // `:` comment interval; zero disables

    bool operator==(const sse_settings&) const = default;
};

struct log_settings {
    std::string level = "info";
    std::string file; // empty: stderr

    bool operator==(const log_settings&) const = default;
};

struct settings {
    http_settings http;
    redis_settings redis;
    task_settings task;
    watch_settings watch;
    sse_settings sse;
    log_settings log;
};

} // namespace rpd::config
