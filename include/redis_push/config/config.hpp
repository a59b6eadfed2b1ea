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
    // "auto": CONFIG SET the notify-keyspace-events flags the modes need
    // (at start and after every reconnect); "off": leave Redis's setting
    // alone (MODES.md 0, 6).
    std::string keyspace_events = "auto";

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

// The modes of MODES.md (queues, mailboxes, streams, history), their
// transports and the notification re-check; keys in docs/config.md. The
// loader (src/config/modes_keys.cpp) validates them; SIGHUP does not apply
// them.
struct queue_settings {
    bool enabled = true;
    std::chrono::seconds timeout{30};      // timeout_seconds 0-86400
    std::chrono::seconds max_timeout{300}; // max_timeout_seconds 1-86400
    std::string name_pattern = "^[A-Za-z0-9_.:/@-]{1,200}$";
    std::chrono::seconds visibility_timeout{30}; // 1-86400
    bool allow_publish = false;
    std::uint32_t max_message_bytes = 65536; // 1024-16777216

    bool operator==(const queue_settings&) const = default;
};

struct mailbox_settings {
    bool enabled = true;
    // The loader fills in redis.prefix + "M_" when the key is absent ("" is
    // a valid explicit value); config::defaults() does the same.
    std::string key_prefix;
    std::string notify_list; // "" = none
    std::chrono::seconds timeout{30};
    std::chrono::seconds max_timeout{300};
    std::string name_pattern = "^[A-Za-z0-9_.:/@-]{1,200}$";

    bool operator==(const mailbox_settings&) const = default;
};

struct stream_settings {
    bool enabled = true;
    std::uint32_t maxlen = 10000;   // 0-2147483647, 0 = untrimmed
    std::uint32_t max_count = 1000; // 1-100000
    bool allow_publish = false;
    std::chrono::milliseconds claim_idle{60000}; // claim_idle_ms 100-86400000
    std::string name_pattern = "^[A-Za-z0-9_.:/@-]{1,200}$";
    std::chrono::seconds timeout{30};
    std::chrono::seconds max_timeout{300};

    bool operator==(const stream_settings&) const = default;
};

struct history_settings {
    bool enabled = true;
    std::uint32_t max_scan = 10000;          // 1-10000000
    std::chrono::seconds accept_timeout{30}; // accept_timeout_seconds 1-3600

    bool operator==(const history_settings&) const = default;
};

struct ws_settings {
    std::vector<std::string> paths{"/ws"};   // each an absolute path, starting with '/', no '?'
    std::chrono::seconds ping{30};           // ping_seconds 1-3600
    std::uint32_t max_message_bytes = 65536; // 1024-16777216
    std::uint32_t max_subscriptions = 100;   // 1-10000

    bool operator==(const ws_settings&) const = default;
};

struct modes_settings {
    std::chrono::milliseconds recheck{1000}; // recheck_ms 50-60000

    bool operator==(const modes_settings&) const = default;
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
    queue_settings queue;
    mailbox_settings mailbox;
    stream_settings stream;
    history_settings history;
    ws_settings ws;
    modes_settings modes;
};

} // namespace rpd::config
