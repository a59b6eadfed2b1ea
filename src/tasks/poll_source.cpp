#include "redis_push/tasks/poll_source.hpp"

#include "redis_push/redis/command_connection.hpp"

#include <memory>
#include <utility>

namespace rpd::tasks {

namespace {

class poll_source final : public feed::source {
public:
    explicit poll_source(feed::sink& sink) : sink_(&sink) {}

    void cancel() noexcept override { sink_ = nullptr; }

    void answer(const redis::reply& r) {
        feed::sink* sink = std::exchange(sink_, nullptr);
        if (sink == nullptr)
            return;
        switch (r.type) {
        case redis::reply::kind::value:
            return sink->ended(feed::end_reason::found, r.value);
        case redis::reply::kind::nil:
            return sink->ended(feed::end_reason::not_found, {});
        default:
            return sink->ended(feed::end_reason::unavailable, {});
        }
    }

private:
    feed::sink* sink_; // null once answered or cancelled
};

} // namespace

feed::handle start_poll(redis::command_connection& commands, std::string_view key,
                        feed::sink& sink) {
    auto source = std::make_shared<poll_source>(sink);
    commands.get(key, [weak = std::weak_ptr<poll_source>(source)](const redis::reply& r) {
        // Held for the call: the sink may drop the handle from inside.
        if (auto self = weak.lock())
            self->answer(r);
    });
    return feed::handle(std::move(source));
}

} // namespace rpd::tasks
