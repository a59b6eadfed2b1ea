#include "redis_push/tasks/poll.hpp"

#include "redis_push/redis/command_connection.hpp"
#include "redis_push/tasks/task_service.hpp"

namespace rpd::tasks {

void poll::start(task_service& service, std::string_view id) {
    // The command connection never answers inside this call (a down
    // connection posts its "unavailable").
    service.commands().get(service.data_key(id), [weak = weak_from_this()](const redis::reply& r) {
        const auto self = weak.lock();
        if (!self || self->sink_ == nullptr)
            return;
        auto* sink = std::exchange(self->sink_, nullptr);
        switch (r.type) {
        case redis::reply::kind::value:
            return sink->ended(feed::end_reason::found, r.value);
        case redis::reply::kind::nil:
            return sink->ended(feed::end_reason::not_found, {});
        default:
            return sink->ended(feed::end_reason::unavailable, {});
        }
    });
}

} // namespace rpd::tasks
