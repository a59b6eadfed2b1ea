#pragma once

#include "redis_push/config/config.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

namespace rpd::config {

// Thrown for every configuration problem; what() names the offending key
// first ("redis.prot: unknown key") so operators can grep for it.
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses a JSON document (the text of a config file) into settings.
settings parse(std::string_view json_text);

// The settings of an empty file: the struct defaults plus the defaults
// that follow other keys (mailbox.key_prefix = redis.prefix + "M_"). Use
// this, not `settings{}`, for a daemon run without a config file.
settings defaults();

// Reads and parses a file, then applies environment overrides
// (REDIS_PUSH_REDIS_PASSWORD). Throws config_error.
settings load_file(const std::string& path);

// Reads task.signing_secret_file (when set) into task.signing_secret,
// without its trailing newline. load_file does this; throws config_error.
void read_secret_file(settings& s);

// Applies the environment overrides to already parsed settings.
void apply_environment(settings& s);

// Checks what a value names on this machine: the folder of log.file and
// http.static_dir must exist. Separate from parse() so that parsing stays
// independent of the machine. Throws config_error naming the key.
void check_paths(const settings& s);

} // namespace rpd::config
