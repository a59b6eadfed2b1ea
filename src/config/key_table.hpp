#pragma once
// Internal to src/config: what loader.cpp and modes_keys.cpp share to build
// the table of accepted keys. Not part of the public config interface.

#include "redis_push/config/config.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rpd::config::keys {

using json = nlohmann::json;

// Throws config_error("<key>: <what>").
[[noreturn]] void fail(const std::string& key, const std::string& what);

// The value as an integer in lo..hi, else config_error naming key.
std::int64_t integer_in(const json& v, const std::string& key, std::int64_t lo, std::int64_t hi);
std::string string_of(const json& v, const std::string& key);
bool bool_of(const json& v, const std::string& key);
// A string that is a valid ECMAScript regular expression (check_pattern,
// then std::regex): every *_pattern key.
std::string pattern_of(const json& v, const std::string& key);

using setter = std::function<void(settings&, const json&, const std::string&)>;
struct key_rule {
    const char* section;
    const char* name;
    setter apply;
};

// The keys of the modes (queue, mailbox, stream, history, ws, modes and
// redis.keyspace_events), appended to the core's table.
void add_modes_rules(std::vector<key_rule>& table);

// Defaults that depend on other keys, once the whole document is read:
// mailbox.key_prefix = redis.prefix + "M_" unless the document sets it.
void resolve_modes_defaults(settings& s, const json& doc);

} // namespace rpd::config::keys
