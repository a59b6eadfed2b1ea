#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace rpd::mailboxes {

// What the mailbox mode needs of the configuration (config::mailbox_settings
// and the Redis keys), in its own terms.
struct mailbox_mode_settings {
    std::string key_prefix = "RA_M_"; // mailbox.key_prefix; "" for redis-ws-alerts' lists
    std::string notify_list;          // "" = none; else BLPOPed on a connection of its own
    std::uint32_t db = 0;             // for the __keyspace@<db>__ channels
    // A mailbox with readers is looked at least this often, notification
    // or not (MODES.md 0).
    std::chrono::milliseconds recheck{1000};
    // How long one BLPOP of the notify list blocks; below the command
    // time-out, which would otherwise take the wait for a stuck server.
    std::chrono::milliseconds notify_block{1000};
};

} // namespace rpd::mailboxes
