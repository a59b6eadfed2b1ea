#pragma once

#include "redis_push/config/config.hpp"

namespace rpd::app {

// Installs the default spdlog logger: stderr, or log.file when set (append
// mode). Calling it again re-opens the file, which is what logrotate needs
// after it renamed the old one. The caller checks the settings first
// (config::check_paths). Throws spdlog::spdlog_ex when the file cannot be
// opened.
void setup_logging(const config::log_settings& log);

} // namespace rpd::app
