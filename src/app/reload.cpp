#include "redis_push/app/logging.hpp"
#include "redis_push/app/server.hpp"
#include "redis_push/config/loader.hpp"

#include <spdlog/spdlog.h>

namespace rpd::app {

// SIGHUP: re-open the log file (logrotate) and take over the settings that
// can change under running clients. Everything else is reported as
// needing a restart and left as it is.
void server::reload() {
    config::settings fresh = settings_;
    if (!config_path_.empty()) {
        try {
            fresh = config::load_file(config_path_);
            config::check_paths(fresh);
        } catch (const std::exception& e) { // config_error, or anything else: never fatal here
            setup_logging(settings_.log);
            spdlog::error("SIGHUP: configuration not reloaded: {}", e.what());
            return;
        }
    }
    const config::settings old = settings_;
    // Open the (new) file at the old level first, so that what changed is
    // logged even when the new level would hide info lines.
    try {
        config::log_settings reopened = fresh.log;
        reopened.level = old.log.level;
        setup_logging(reopened);
    } catch (const std::exception& e) {
        setup_logging(old.log);
        spdlog::error("SIGHUP: cannot open log.file {}: {}", fresh.log.file, e.what());
        fresh.log.file = old.log.file;
    }
    spdlog::info("SIGHUP: log re-opened{}",
                 config_path_.empty() ? "" : ", " + config_path_ + " re-read");

    if (fresh.log.level != old.log.level) {
        spdlog::info("log.level: {} -> {}", old.log.level, fresh.log.level);
        spdlog::default_logger()->set_level(spdlog::level::from_str(fresh.log.level));
    }
    settings_.log = fresh.log;
    if (fresh.log.file != old.log.file)
        spdlog::info("log.file: '{}' -> '{}'", old.log.file, fresh.log.file);
    if (fresh.http.cors_origins != old.http.cors_origins) {
        settings_.http.cors_origins = fresh.http.cors_origins;
        http_.live.cors = http::cors_policy(fresh.http.cors_origins);
        spdlog::info("http.cors_origins: changed ({} origins)", fresh.http.cors_origins.size());
    }
    if (fresh.watch.keepalive != old.watch.keepalive) {
        settings_.watch.keepalive = fresh.watch.keepalive;
        http_.live.watch_keepalive = fresh.watch.keepalive;
        spdlog::info("watch.keepalive_seconds: {} -> {}", old.watch.keepalive.count(),
                     fresh.watch.keepalive.count());
    }

    if (!(fresh.sse == old.sse)) {
        settings_.sse = fresh.sse;
        http_.live.sse_keepalive = fresh.sse.keepalive;
        http_.live.sse_retry = fresh.sse.retry;
        spdlog::info("sse: keepalive_seconds {} -> {}, retry_ms {} -> {}",
                     old.sse.keepalive.count(), fresh.sse.keepalive.count(), old.sse.retry.count(),
                     fresh.sse.retry.count());
    }

    // What is left different needs a restart.
    config::settings rest = fresh;
    rest.log = settings_.log;
    rest.http.cors_origins = settings_.http.cors_origins;
    rest.watch.keepalive = settings_.watch.keepalive;
    rest.sse = settings_.sse;
    const auto restart_needed = [](const char* section) {
        spdlog::warn("SIGHUP: {}.* settings changed; they take effect after a restart", section);
    };
    if (!(rest.http == settings_.http))
        restart_needed("http");
    if (!(rest.redis == settings_.redis))
        restart_needed("redis");
    if (!(rest.task == settings_.task))
        restart_needed("task");
    if (!(rest.watch == settings_.watch))
        restart_needed("watch");
    if (!(rest.queue == settings_.queue))
        restart_needed("queue");
    if (!(rest.mailbox == settings_.mailbox))
        restart_needed("mailbox");
    if (!(rest.stream == settings_.stream))
        restart_needed("stream");
    if (!(rest.history == settings_.history))
        restart_needed("history");
    if (!(rest.ws == settings_.ws))
        restart_needed("ws");
    if (!(rest.modes == settings_.modes))
        restart_needed("modes");
}

} // namespace rpd::app
