#pragma once

#include <cstdint>

namespace rpd::app {

// Raises the soft RLIMIT_NOFILE to the hard limit (every client is a file
// descriptor) and returns the resulting soft limit.
std::uint64_t raise_fd_limit();

} // namespace rpd::app
