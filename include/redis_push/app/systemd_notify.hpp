#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace rpd::app {

// The sd_notify datagram protocol, written directly (a dozen lines) rather
// than linking libsystemd for it. Without NOTIFY_SOCKET every call is a
// no-op, so the daemon runs the same outside systemd.
class systemd_notifier {
public:
    systemd_notifier(); // reads NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID
    ~systemd_notifier();
    systemd_notifier(const systemd_notifier&) = delete;
    systemd_notifier& operator=(const systemd_notifier&) = delete;

    bool enabled() const { return fd_ >= 0; }
    // One or more "KEY=value" lines.
    void notify(std::string_view state);

    // How often to send WATCHDOG=1 (half the unit's WatchdogSec), if asked.
    std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

private:
    int fd_ = -1;
    std::string address_; // sockaddr_un path; a leading '@' means abstract
    std::optional<std::chrono::microseconds> watchdog_;
};

} // namespace rpd::app
