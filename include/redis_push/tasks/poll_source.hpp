#pragma once

#include "redis_push/feed/feed.hpp"

#include <string_view>

namespace rpd::redis {
class command_connection;
}

namespace rpd::tasks {

// A poll as a feed: one GET of `key`, then exactly one sink.ended(found,
// value), ended(not_found) or ended(unavailable). Never inside this call:
// the command connection posts even the answers it gives at once. The
// GET's handler holds only a weak_ptr, so destroying the handle drops the
// reply.
feed::handle start_poll(redis::command_connection& commands, std::string_view key,
                        feed::sink& sink);

} // namespace rpd::tasks
