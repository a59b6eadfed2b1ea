#include "redis_push/app/systemd_notify.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace rpd::app {

systemd_notifier::systemd_notifier() {
    const char* socket_path = std::getenv("NOTIFY_SOCKET");
    if (socket_path != nullptr && (socket_path[0] == '/' || socket_path[0] == '@') &&
        std::strlen(socket_path) < sizeof(sockaddr_un::sun_path)) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        address_ = socket_path;
    }
    if (const char* usec = std::getenv("WATCHDOG_USEC")) {
        const char* pid = std::getenv("WATCHDOG_PID");
        const bool for_us = pid == nullptr || std::strtol(pid, nullptr, 10) == ::getpid();
        const long long n = std::strtoll(usec, nullptr, 10);
        if (for_us && n > 0)
            watchdog_ = std::chrono::microseconds(n / 2);
    }
}

systemd_notifier::~systemd_notifier() {
    if (fd_ >= 0)
        ::close(fd_);
}

void systemd_notifier::notify(std::string_view state) {
    if (fd_ < 0)
        return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, address_.data(), address_.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
    if (address_[0] == '@')
        addr.sun_path[0] = '\0'; // abstract namespace
    else
        ++len; // include the terminating NUL of a path
    if (::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&addr), len) < 0)
        spdlog::debug("sd_notify: {}", std::strerror(errno));
}

} // namespace rpd::app
