#pragma once

#include "redis_push/feed/feed.hpp"

#include <memory>
#include <string_view>

namespace rpd::tasks {

class task_service;

// One GET of a data key as a feed: it ends once, with found (the value),
// not_found or unavailable, and never opens. The reply reaches it through a
// weak_ptr, so a client that leaves before Redis answered costs nothing.
class poll final : public feed::source, public std::enable_shared_from_this<poll> {
public:
    explicit poll(feed::sink& sink) : sink_(&sink) {}

    void start(task_service& service, std::string_view id);
    void cancel() noexcept override { sink_ = nullptr; }

private:
    feed::sink* sink_;
};

} // namespace rpd::tasks
