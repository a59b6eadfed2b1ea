// redis-push-daemon: answers HTTP long-polls from Redis (see docs/).
#include "redis_push/app/fd_limit.hpp"
#include "redis_push/app/logging.hpp"
#include "redis_push/app/server.hpp"
#include "redis_push/config/loader.hpp"
#include "redis_push/tasks/task_signer.hpp"

#include <spdlog/spdlog.h>

#include <cstring>
#include <iostream>
#include <optional>
#include <string>

namespace {

constexpr int exit_usage = 2;
constexpr int exit_config = 2;
constexpr int exit_runtime = 1;

void print_help() {
    std::cout << "Usage: redis-push-daemon [--config FILE] [--check-config]\n"
                 "       redis-push-daemon [--config FILE] --sign ID\n"
                 "       redis-push-daemon --version | --help\n"
                 "\n"
                 "Answers HTTP polls and watches (GET /task/ID, /task/ID?watch) from Redis.\n"
                 "\n"
                 "  --config FILE    JSON configuration (every key optional; see docs/config.md)\n"
                 "  --check-config   validate the configuration and exit (0 good, 2 bad)\n"
                 "  --sign ID        print ID.SIGNATURE, the signed id clients must use, with\n"
                 "                   the configured task.signing_secret, and exit\n"
                 "  --version        print the version and exit\n"
                 "  --help           print this help and exit\n"
                 "\n"
                 "Environment: REDIS_PUSH_REDIS_PASSWORD overrides redis.password.\n";
}

} // namespace

int main(int argc, char** argv) {
    std::optional<std::string> config_path;
    bool check_only = false;
    std::optional<std::string> id_to_sign;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            print_help();
            return 0;
        }
        if (arg == "--version" || arg == "-V") {
            std::cout << "redis-push-daemon " << RPD_VERSION << "\n";
            return 0;
        }
        if (arg == "--check-config") {
            check_only = true;
        } else if (arg == "--sign" && i + 1 < argc) {
            id_to_sign = argv[++i];
        } else if (arg == "--config" && i + 1 < argc) {
            config_path = argv[++i];
        } else if (arg.rfind("--config=", 0) == 0) {
            config_path = arg.substr(std::strlen("--config="));
        } else {
            std::cerr << "redis-push-daemon: unknown argument '" << arg << "' (see --help)\n";
            return exit_usage;
        }
    }

    rpd::config::settings settings;
    try {
        if (config_path) {
            settings = rpd::config::load_file(*config_path);
        } else {
            rpd::config::apply_environment(settings);
        }
        rpd::config::check_paths(settings);
    } catch (const std::exception& e) { // config_error, or e.g. bad_alloc reading a huge file
        std::cerr << "redis-push-daemon: config error: " << e.what() << "\n";
        return exit_config;
    }
    if (check_only) {
        std::cout << "configuration OK\n";
        return 0;
    }
    if (id_to_sign) {
        if (settings.task.signing_secret.empty()) {
            std::cerr << "redis-push-daemon: --sign needs task.signing_secret or "
                         "task.signing_secret_file in the configuration\n";
            return exit_config;
        }
        const rpd::tasks::task_signer signer(settings.task.signing_secret,
                                             settings.task.signature_bytes);
        std::cout << *id_to_sign << "." << signer.sign(*id_to_sign) << "\n";
        return 0;
    }

    try {
        rpd::app::setup_logging(settings.log);
    } catch (const std::exception& e) {
        std::cerr << "redis-push-daemon: cannot open log.file " << settings.log.file << ": "
                  << e.what() << "\n";
        return exit_runtime;
    }
    // Every client is a file descriptor: take all the kernel allows.
    const auto fds = rpd::app::raise_fd_limit();
    spdlog::info("file descriptor limit {}: room for about {} client connections", fds,
                 fds > 64 ? fds - 64 : 0);
    if (fds < settings.http.max_connections + 64u)
        spdlog::warn("http.max_connections is {}, but the file descriptor limit allows about {}",
                     settings.http.max_connections, fds > 64 ? fds - 64 : 0);
    try {
        rpd::app::server server(std::move(settings), config_path.value_or(""));
        return server.run();
    } catch (const std::exception& e) {
        spdlog::critical("cannot start: {}", e.what());
        return exit_runtime;
    }
}
