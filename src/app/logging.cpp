#include "redis_push/app/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace rpd::app {

void setup_logging(const config::log_settings& log) {
    spdlog::sink_ptr sink;
    if (log.file.empty())
        // stderr: stdout stays free for --version/--help, and systemd's
        // journal takes both anyway.
        sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    else // config::check_paths() made sure the folder exists: spdlog would create it
        sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log.file, /*truncate=*/false);
    auto logger = std::make_shared<spdlog::logger>("redis-push-daemon", std::move(sink));
    logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
    logger->set_level(spdlog::level::from_str(log.level));
    // Lines at info and above are rare and matter: never leave them buffered.
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(std::move(logger));
}

} // namespace rpd::app
