#pragma once

#include <cstdint>
#include <utility>

namespace rpd::http {

// One open client connection in the connections_open count (and so under
// http.max_connections), for as long as whoever owns the connection holds
// it: the HTTP session, or the endpoint that took the connection over.
class connection_slot {
public:
    explicit connection_slot(std::uint64_t& open) : open_(&open) { ++*open_; }
    ~connection_slot() {
        if (open_ != nullptr)
            --*open_;
    }
    connection_slot(connection_slot&& other) noexcept
        : open_(std::exchange(other.open_, nullptr)) {}
    connection_slot& operator=(connection_slot&&) = delete;
    connection_slot(const connection_slot&) = delete;
    connection_slot& operator=(const connection_slot&) = delete;

private:
    std::uint64_t* open_;
};

} // namespace rpd::http
