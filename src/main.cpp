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
                 "       redis-push-daemon [--config FILE] --sign NAME --sign-for MODE\n"
                 "       redis-push-daemon [--config FILE] --publish-token NAME\n"
                 "       redis-push-daemon --version | --help\n"
                 "\n"
                 "Answers HTTP polls and watches (GET /task/ID, /task/ID?watch) from Redis.\n"
                 "\n"
                 "  --config FILE    JSON configuration (every key optional; see docs/config.md)\n"
                 "  --check-config   validate the configuration and exit (0 good, 2 bad)\n"
                 "  --sign ID        print ID.SIGNATURE, the signed id clients must use, with\n"
                 "                   the configured task.signing_secret, and exit\n"
                 "  --sign-for MODE  with --sign: sign a queue, mailbox or stream NAME instead\n"
                 "                   (MODE is queue, mailbox or stream; prints NAME.SIGNATURE)\n"
                 "  --publish-token NAME\n"
                 "                   print the bearer token that allows publishing to queue or\n"
                 "                   stream NAME (full HMAC-SHA256, base64url), and exit\n"
                 "  --version        print the version and exit\n"
                 "  --help           print this help and exit\n"
                 "\n"
                 "Environment: REDIS_PUSH_REDIS_PASSWORD overrides redis.password.\n";
}

bool is_mode(const std::string& m) {
    return m == "queue" || m == "mailbox" || m == "stream";
}

} // namespace

int main(int argc, char** argv) {
    std::optional<std::string> config_path;
    bool check_only = false;
    std::optional<std::string> id_to_sign;
    std::optional<std::string> sign_for; // queue, mailbox or stream
    std::optional<std::string> publish_name;
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
        } else if (arg == "--sign-for" && i + 1 < argc) {
            sign_for = argv[++i];
            if (!is_mode(*sign_for)) {
                std::cerr << "redis-push-daemon: --sign-for takes queue, mailbox or stream, not '"
                          << *sign_for << "'\n";
                return exit_usage;
            }
        } else if (arg == "--publish-token" && i + 1 < argc) {
            publish_name = argv[++i];
        } else if (arg == "--config" && i + 1 < argc) {
            config_path = argv[++i];
        } else if (arg.rfind("--config=", 0) == 0) {
            config_path = arg.substr(std::strlen("--config="));
        } else {
            std::cerr << "redis-push-daemon: unknown argument '" << arg << "' (see --help)\n";
            return exit_usage;
        }
    }

    if (sign_for && !id_to_sign) {
        std::cerr << "redis-push-daemon: --sign-for needs --sign NAME (see --help)\n";
        return exit_usage;
    }
    if (id_to_sign && publish_name) {
        std::cerr << "redis-push-daemon: --sign and --publish-token do not go together\n";
        return exit_usage;
    }

    rpd::config::settings settings;
    try {
        if (config_path) {
            settings = rpd::config::load_file(*config_path);
        } else {
            settings = rpd::config::defaults();
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
    if (id_to_sign || publish_name) {
        if (settings.task.signing_secret.empty()) {
            std::cerr << "redis-push-daemon: " << (id_to_sign ? "--sign" : "--publish-token")
                      << " needs task.signing_secret or task.signing_secret_file in the "
                         "configuration\n";
            return exit_config;
        }
        if (publish_name) {
            // The whole HMAC-SHA256 over "publish:" + NAME (MODES.md 6).
            const rpd::tasks::task_signer full(settings.task.signing_secret, 32);
            std::cout << full.sign("publish:" + *publish_name) << "\n";
            return 0;
        }
        // A mode's name is signed with its key-purpose prefix (MODES.md 0),
        // so a signature for one mode never opens another.
        const std::string purpose = sign_for ? *sign_for + ":" : "";
        const rpd::tasks::task_signer signer(settings.task.signing_secret,
                                             settings.task.signature_bytes);
        std::cout << *id_to_sign << "." << signer.sign(purpose + *id_to_sign) << "\n";
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
