#include "redis_push/config/loader.hpp"

#include "key_table.hpp"
#include "redis_push/config/pattern_check.hpp"

#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <regex>
#include <sstream>

namespace rpd::config {

namespace keys {

void fail(const std::string& key, const std::string& what) {
    throw config_error(key + ": " + what);
}

std::int64_t integer_in(const json& v, const std::string& key, std::int64_t lo, std::int64_t hi) {
    if (!v.is_number_integer() && !v.is_number_unsigned())
        fail(key, "expected an integer");
    // Unsigned values above int64 max can only be out of range anyway.
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
        fail(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    const auto n = v.get<std::int64_t>();
    if (n < lo || n > hi)
        fail(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return n;
}

std::string string_of(const json& v, const std::string& key) {
    if (!v.is_string())
        fail(key, "expected a string");
    return v.get<std::string>();
}

bool bool_of(const json& v, const std::string& key) {
    if (!v.is_boolean())
        fail(key, "expected true or false");
    return v.get<bool>();
}

std::string pattern_of(const json& v, const std::string& key) {
    auto text = string_of(v, key);
    check_pattern(text, key);
    try {
        std::regex probe(text, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        fail(key, std::string("not a valid ECMAScript regular expression: ") + e.what());
    }
    return text;
}

} // namespace keys

namespace {

using namespace keys;

constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();

// A whole file, or why it could not be had ("cannot open", "cannot read").
struct file_text {
    std::string text;
    const char* problem = nullptr;
};

file_text read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return {{}, "cannot open"};
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
        return {{}, "cannot read"};
    return {std::move(text).str(), nullptr};
}

// Every accepted key with its type and range; the single source of truth
// for what a config file may contain (the modes' keys: modes_keys.cpp).
std::vector<key_rule> core_rules() {
    return {
        {"http", "address",
         [](settings& s, const json& v, const std::string& k) {
             auto text = string_of(v, k);
             boost::system::error_code ec;
             boost::asio::ip::make_address(text, ec);
             if (ec)
                 fail(k, "not an IPv4 or IPv6 address: \"" + text + "\"");
             s.http.address = std::move(text);
         }},
        {"http", "port",
         [](settings& s, const json& v, const std::string& k) {
             s.http.port = static_cast<std::uint16_t>(integer_in(v, k, 1, 65535));
         }},
        {"http", "always_200",
         [](settings& s, const json& v, const std::string& k) {
             s.http.always_200 = bool_of(v, k);
         }},
        {"http", "cors_origins",
         [](settings& s, const json& v, const std::string& k) {
             if (!v.is_array())
                 fail(k, "expected an array of strings");
             s.http.cors_origins.clear();
             for (const auto& item : v) {
                 if (!item.is_string())
                     fail(k, "expected an array of strings");
                 s.http.cors_origins.push_back(item.get<std::string>());
             }
         }},
        {"http", "max_connections",
         [](settings& s, const json& v, const std::string& k) {
             s.http.max_connections = static_cast<std::uint32_t>(integer_in(v, k, 1, 10000000));
         }},
        {"http", "request_timeout_seconds",
         [](settings& s, const json& v, const std::string& k) {
             s.http.request_timeout = std::chrono::seconds(integer_in(v, k, 1, 3600));
         }},
        {"http", "idle_timeout_seconds",
         [](settings& s, const json& v, const std::string& k) {
             s.http.idle_timeout = std::chrono::seconds(integer_in(v, k, 1, 86400));
         }},
        {"http", "max_header_bytes",
         [](settings& s, const json& v, const std::string& k) {
             s.http.max_header_bytes = static_cast<std::uint32_t>(integer_in(v, k, 1024, 1048576));
         }},
        {"http", "max_output_bytes",
         [](settings& s, const json& v, const std::string& k) {
             s.http.max_output_bytes =
                 static_cast<std::uint32_t>(integer_in(v, k, 4096, 1073741824));
         }},
        {"http", "static_dir",
         [](settings& s, const json& v, const std::string& k) {
             s.http.static_dir = string_of(v, k);
         }},
        {"redis", "host",
         [](settings& s, const json& v, const std::string& k) {
             auto text = string_of(v, k);
             if (text.empty())
                 fail(k, "must not be empty");
             s.redis.host = std::move(text);
         }},
        {"redis", "port",
         [](settings& s, const json& v, const std::string& k) {
             s.redis.port = static_cast<std::uint16_t>(integer_in(v, k, 1, 65535));
         }},
        {"redis", "unix_socket",
         [](settings& s, const json& v, const std::string& k) {
             s.redis.unix_socket = string_of(v, k);
         }},
        {"redis", "username",
         [](settings& s, const json& v, const std::string& k) {
             s.redis.username = string_of(v, k);
         }},
        {"redis", "password",
         [](settings& s, const json& v, const std::string& k) {
             s.redis.password = string_of(v, k);
         }},
        {"redis", "db",
         [](settings& s, const json& v, const std::string& k) {
             s.redis.db = static_cast<std::uint32_t>(integer_in(v, k, 0, int32_max));
         }},
        {"redis", "prefix",
         [](settings& s, const json& v, const std::string& k) {
             s.redis.prefix = string_of(v, k);
         }},
        {"redis", "subscriber_connections",
         [](settings& s, const json& v, const std::string& k) {
             s.redis.subscriber_connections = static_cast<std::uint32_t>(integer_in(v, k, 1, 256));
         }},
        {"redis", "connect_timeout_ms",
         [](settings& s, const json& v, const std::string& k) {
             s.redis.connect_timeout = std::chrono::milliseconds(integer_in(v, k, 1, 600000));
         }},
        {"redis", "command_timeout_ms",
         [](settings& s, const json& v, const std::string& k) {
             s.redis.command_timeout = std::chrono::milliseconds(integer_in(v, k, 1, 600000));
         }},
        {"task", "id_pattern",
         [](settings& s, const json& v, const std::string& k) {
             s.task.id_pattern = pattern_of(v, k);
         }},
        {"task", "max_id_length",
         [](settings& s, const json& v, const std::string& k) {
             s.task.max_id_length = static_cast<std::uint32_t>(integer_in(v, k, 1, 1024));
         }},
        {"task", "signing_secret",
         [](settings& s, const json& v, const std::string& k) {
             s.task.signing_secret = string_of(v, k);
         }},
        {"task", "signing_secret_file",
         [](settings& s, const json& v, const std::string& k) {
             s.task.signing_secret_file = string_of(v, k);
         }},
        {"task", "signature_bytes",
         [](settings& s, const json& v, const std::string& k) {
             s.task.signature_bytes = static_cast<std::uint32_t>(integer_in(v, k, 8, 32));
         }},
        {"watch", "keepalive_seconds",
         [](settings& s, const json& v, const std::string& k) {
             s.watch.keepalive = std::chrono::seconds(integer_in(v, k, 0, 3600));
         }},
        {"watch", "timeout_seconds",
         [](settings& s, const json& v, const std::string& k) {
             s.watch.timeout = std::chrono::seconds(integer_in(v, k, 0, 604800));
         }},
        {"sse", "retry_ms",
         [](settings& s, const json& v, const std::string& k) {
             s.sse.retry = std::chrono::milliseconds(integer_in(v, k, 0, 3600000));
         }},
        {"sse", "keepalive_seconds",
         [](settings& s, const json& v, const std::string& k) {
             s.sse.keepalive = std::chrono::seconds(integer_in(v, k, 0, 3600));
         }},
        {"log", "level",
         [](settings& s, const json& v, const std::string& k) {
             static const std::array<const char*, 7> levels = {"trace", "debug",    "info", "warn",
                                                               "error", "critical", "off"};
             auto text = string_of(v, k);
             for (const char* l : levels)
                 if (text == l) {
                     s.log.level = std::move(text);
                     return;
                 }
             fail(k, "must be one of trace, debug, info, warn, error, critical, off");
         }},
        {"log", "file",
         [](settings& s, const json& v, const std::string& k) { s.log.file = string_of(v, k); }},
    };
}

const std::vector<key_rule>& rules() {
    static const std::vector<key_rule> table = [] {
        auto all = core_rules();
        add_modes_rules(all);
        return all;
    }();
    return table;
}

bool known_section(const std::string& name) {
    for (const auto& r : rules())
        if (name == r.section)
            return true;
    return false;
}

const key_rule* find_rule(const std::string& section, const std::string& name) {
    for (const auto& r : rules())
        if (section == r.section && name == r.name)
            return &r;
    return nullptr;
}

} // namespace

settings parse(std::string_view json_text) {
    // nlohmann's lexer stops at a NUL byte and would ignore what follows.
    if (json_text.find('\0') != std::string_view::npos)
        throw config_error("invalid JSON: a NUL byte in the file");
    json doc;
    try {
        doc = json::parse(json_text);
    } catch (const json::exception& e) {
        // parse_error, and out_of_range for a number like 1e400 that no
        // double holds: both are a broken file, not a crash.
        throw config_error(std::string("invalid JSON: ") + e.what());
    }
    if (!doc.is_object())
        throw config_error("top level: expected a JSON object");

    settings s;
    for (const auto& [section, body] : doc.items()) {
        if (!known_section(section))
            fail(section, "unknown key");
        if (!body.is_object())
            fail(section, "expected an object");
        for (const auto& [name, value] : body.items()) {
            const std::string key = section + "." + name;
            const key_rule* rule = find_rule(section, name);
            if (rule == nullptr)
                fail(key, "unknown key");
            rule->apply(s, value, key);
        }
    }
    if (!s.task.signing_secret.empty() && !s.task.signing_secret_file.empty())
        fail("task.signing_secret_file", "set only one of task.signing_secret and "
                                         "task.signing_secret_file");
    resolve_modes_defaults(s, doc);
    return s;
}

settings defaults() {
    return parse("{}");
}

void read_secret_file(settings& s) {
    const std::string& path = s.task.signing_secret_file;
    if (path.empty())
        return;
    auto file = read_text(path);
    if (file.problem != nullptr)
        fail("task.signing_secret_file", std::string(file.problem) + " " + path);
    std::string secret = std::move(file.text);
    // Files written by `echo` or an editor end in a newline that is not
    // meant to be part of the secret.
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
        secret.pop_back();
    if (secret.empty())
        fail("task.signing_secret_file", path + " is empty");
    s.task.signing_secret = std::move(secret);
}

void apply_environment(settings& s) {
    if (const char* password = std::getenv("REDIS_PUSH_REDIS_PASSWORD"))
        s.redis.password = password;
}

void check_paths(const settings& s) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!s.log.file.empty()) {
        const auto folder = fs::path(s.log.file).parent_path();
        if (!folder.empty() && !fs::is_directory(folder, ec))
            fail("log.file", "folder " + folder.string() + " does not exist");
    }
    if (!s.http.static_dir.empty() && !fs::is_directory(s.http.static_dir, ec))
        fail("http.static_dir", "not a folder: " + s.http.static_dir);
}

settings load_file(const std::string& path) {
    const auto file = read_text(path);
    if (file.problem != nullptr)
        throw config_error(path + ": " + file.problem + " config file");
    settings s = parse(file.text);
    apply_environment(s);
    read_secret_file(s);
    return s;
}

} // namespace rpd::config
