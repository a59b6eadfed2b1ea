// The configuration keys of the modes (MODES.md 5 and 6 "Config"): queue,
// mailbox, stream, history, ws, modes and redis.keyspace_events. Validated
// like the core's keys (loader.cpp); the ranges are the spec's.
#include "key_table.hpp"

#include <chrono>
#include <limits>

namespace rpd::config::keys {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::int64_t day = 86400;
constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();

// ws.paths: a non-empty array of request paths a WebSocket upgrade is
// accepted on. Each starts with '/' and holds nothing a request target
// could not carry in its path (no query, fragment, space or control byte).
std::vector<std::string> ws_paths_of(const json& v, const std::string& k) {
    if (!v.is_array())
        fail(k, "expected an array of strings");
    if (v.empty())
        fail(k, "must list at least one path");
    std::vector<std::string> paths;
    for (const auto& item : v) {
        if (!item.is_string())
            fail(k, "expected an array of strings");
        auto path = item.get<std::string>();
        if (path.empty() || path.front() != '/')
            fail(k, "\"" + path + "\" is not an absolute path (starting with /)");
        for (const char c : path)
            if (c == '?' || c == '#' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
                fail(k, "\"" + path + "\": a path without '?', '#', spaces or control characters");
        paths.push_back(std::move(path));
    }
    return paths;
}

// A table entry that reads a value with `read` into (s.*part).*field.
template <class Part, class Field, class Read>
key_rule entry(const char* section, const char* name, Part settings::*part, Field Part::*field,
               Read read) {
    return {section, name, [=](settings& s, const json& v, const std::string& k) {
                (s.*part).*field = read(v, k);
            }};
}

// Readers for entry(): an integer range as a count of seconds,
// milliseconds or a plain uint32_t.
auto secs(std::int64_t lo, std::int64_t hi) {
    return [=](const json& v, const std::string& k) { return seconds(integer_in(v, k, lo, hi)); };
}
auto millis(std::int64_t lo, std::int64_t hi) {
    return
        [=](const json& v, const std::string& k) { return milliseconds(integer_in(v, k, lo, hi)); };
}
auto u32(std::int64_t lo, std::int64_t hi) {
    return [=](const json& v, const std::string& k) {
        return static_cast<std::uint32_t>(integer_in(v, k, lo, hi));
    };
}

std::string keyspace_events_of(const json& v, const std::string& k) {
    auto text = string_of(v, k);
    if (text != "auto" && text != "off")
        fail(k, "must be \"auto\" or \"off\"");
    return text;
}

} // namespace

void add_modes_rules(std::vector<key_rule>& t) {
    const auto queue = [](const char* name, auto field, auto read) {
        return entry("queue", name, &settings::queue, field, read);
    };
    const auto mailbox = [](const char* name, auto field, auto read) {
        return entry("mailbox", name, &settings::mailbox, field, read);
    };
    const auto stream = [](const char* name, auto field, auto read) {
        return entry("stream", name, &settings::stream, field, read);
    };
    const auto history = [](const char* name, auto field, auto read) {
        return entry("history", name, &settings::history, field, read);
    };
    const auto ws = [](const char* name, auto field, auto read) {
        return entry("ws", name, &settings::ws, field, read);
    };
    using Q = queue_settings;
    using M = mailbox_settings;
    using S = stream_settings;
    using H = history_settings;
    using W = ws_settings;
    t.insert(t.end(), {
                          entry("redis", "keyspace_events", &settings::redis,
                                &redis_settings::keyspace_events, keyspace_events_of),

                          queue("enabled", &Q::enabled, bool_of),
                          queue("timeout_seconds", &Q::timeout, secs(0, day)),
                          queue("max_timeout_seconds", &Q::max_timeout, secs(1, day)),
                          queue("name_pattern", &Q::name_pattern, pattern_of),
                          queue("visibility_timeout_seconds", &Q::visibility_timeout, secs(1, day)),
                          queue("allow_publish", &Q::allow_publish, bool_of),
                          queue("max_message_bytes", &Q::max_message_bytes, u32(1024, 16777216)),

                          mailbox("enabled", &M::enabled, bool_of),
                          mailbox("key_prefix", &M::key_prefix, string_of),
                          mailbox("notify_list", &M::notify_list, string_of),
                          mailbox("timeout_seconds", &M::timeout, secs(0, day)),
                          mailbox("max_timeout_seconds", &M::max_timeout, secs(1, day)),
                          mailbox("name_pattern", &M::name_pattern, pattern_of),

                          stream("enabled", &S::enabled, bool_of),
                          stream("maxlen", &S::maxlen, u32(0, int32_max)),
                          stream("max_count", &S::max_count, u32(1, 100000)),
                          stream("allow_publish", &S::allow_publish, bool_of),
                          stream("claim_idle_ms", &S::claim_idle, millis(100, 86400000)),
                          stream("name_pattern", &S::name_pattern, pattern_of),
                          stream("timeout_seconds", &S::timeout, secs(0, day)),
                          stream("max_timeout_seconds", &S::max_timeout, secs(1, day)),

                          history("enabled", &H::enabled, bool_of),
                          history("max_scan", &H::max_scan, u32(1, 10000000)),
                          history("accept_timeout_seconds", &H::accept_timeout, secs(1, 3600)),

                          ws("paths", &W::paths, ws_paths_of),
                          ws("ping_seconds", &W::ping, secs(1, 3600)),
                          ws("max_message_bytes", &W::max_message_bytes, u32(1024, 16777216)),
                          ws("max_subscriptions", &W::max_subscriptions, u32(1, 10000)),

                          entry("modes", "recheck_ms", &settings::modes, &modes_settings::recheck,
                                millis(50, 60000)),
                      });
}

void resolve_modes_defaults(settings& s, const json& doc) {
    const auto mailbox = doc.find("mailbox");
    if (mailbox == doc.end() || !mailbox->contains("key_prefix"))
        s.mailbox.key_prefix = s.redis.prefix + "M_";
}

} // namespace rpd::config::keys
