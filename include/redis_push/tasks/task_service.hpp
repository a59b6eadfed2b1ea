#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/redis/command_connection.hpp"
#include "redis_push/redis/subscriber_pool.hpp"
#include "redis_push/tasks/watch.hpp"
#include "redis_push/util/uuid.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/intrusive/list.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace rpd::tasks {

struct task_settings {
    std::string prefix = "RA_";
    std::chrono::seconds watch_timeout{0}; // zero: no limit
};

// The task protocol on top of the Redis layer: polls and watches as feeds,
// and the list of live watches (for re-checks after a reconnect and for
// shutdown).
class task_service {
public:
    task_service(boost::asio::io_context& ioc, redis::command_connection& commands,
                 redis::subscriber_pool& subscribers, task_settings settings);
    ~task_service();
    task_service(const task_service&) = delete;
    task_service& operator=(const task_service&) = delete;

    // A poll as a feed: exactly one sink.ended(found, value) /
    // ended(not_found) / ended(unavailable), posted (never inside this
    // call); destroying the handle drops the reply.
    feed::handle poll(std::string_view id, feed::sink& sink);
    // Starts a watch feeding `sink`; the handle owns it (destroying it = the
    // client left: everything is released at once and nobody is told).
    feed::handle start_watch(std::string_view id, feed::sink& sink, watch_options options = {});

    // Every waiting watch re-reads its data key (after a reconnect).
    void recheck_all();
    // Every live watch ends with end_reason::shutting_down, and so does
    // every watch started from now on.
    void shutdown();
    bool shutting_down() const { return shutting_down_; }

    std::size_t active_watches() const { return watches_.size(); }

private:
    friend class watch;

    using watch_list = boost::intrusive::list<
        watch,
        boost::intrusive::member_hook<watch, decltype(watch::registry_hook), &watch::registry_hook>,
        boost::intrusive::constant_time_size<false>>;

    template <class Fn> void for_each_watch(Fn fn);

    // Used by watch.
    boost::asio::io_context& io() { return ioc_; }
    redis::command_connection& commands() { return commands_; }
    redis::subscriber_pool& subscribers() { return subscribers_; }
    const task_settings& settings() const { return settings_; }
    std::string data_key(std::string_view id) const;
    std::string channel(std::string_view id) const;
    std::array<char, 36> new_uuid() { return uuids_.next(); }
    void track(watch& w) { watches_.push_back(w); }

    boost::asio::io_context& ioc_;
    redis::command_connection& commands_;
    redis::subscriber_pool& subscribers_;
    task_settings settings_;
    util::uuid_generator uuids_;
    watch_list watches_;
    bool shutting_down_ = false;
};

} // namespace rpd::tasks
