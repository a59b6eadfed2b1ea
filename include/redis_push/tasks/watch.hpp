#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/redis/subscription.hpp"
#include "redis_push/tasks/watch_machine.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list_hook.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rpd::tasks {

class task_service;

struct watch_options {
    bool follow = false; // stream every state until done (SSE); false: the classic one-shot watch
};

// The I/O around one watch_machine: the share of the channel subscription,
// the time limit, the GET and PUBLISH commands, and the sink calls the
// machine's actions stand for. Owned by a feed::handle; Redis replies and
// the timer hold only a weak_ptr, so a client that leaves frees the watch
// (and its share of the subscription) at once, and late replies find
// nothing.
class watch final : public feed::source,
                    public redis::channel_listener,
                    public std::enable_shared_from_this<watch> {
public:
    watch(task_service& service, std::string_view id, feed::sink& sink, watch_options options);
    ~watch() override;
    watch(const watch&) = delete;
    watch& operator=(const watch&) = delete;

    void start();
    void cancel() noexcept override;
    // Redis came back: re-read the data key; only "done" ends the watch.
    void recheck();
    // Ends the watch with end_reason::shutting_down.
    void shut_down();

    // Membership in the service's list of live watches.
    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>
        registry_hook;

private:
    using action = watch_machine::action;

    void on_subscribed() override;
    void on_message(std::string_view payload) override;

    void run(action a);
    action perform(const action& a);
    void read(watch_machine::read_purpose purpose);
    void publish_kill();
    void arm_timeout();
    void release();

    task_service& service_;
    feed::sink* sink_;    // null once the feed ended or was cancelled
    std::string channel_; // prefix + "SC_" + id; the id is its tail
    std::size_t id_offset_;
    std::array<char, 36> uuid_;
    watch_machine machine_; // views uuid_
    redis::subscription subscription_;
    std::optional<boost::asio::steady_timer> timeout_timer_;
};

} // namespace rpd::tasks
