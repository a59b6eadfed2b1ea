#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/redis/subscription.hpp"
#include "redis_push/tasks/message.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list_hook.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string>

namespace rpd::redis {
struct reply;
}

namespace rpd::tasks {

class task_service;

struct watch_options {
    bool follow = false; // stream every state until done (SSE); false: the classic one-shot watch
};

// One client's wait for one task, as a feed source:
//   subscribe -> confirmed -> read data key -> (done/missing/bad: end)
//   -> publish kill(uuid) -> opened -> wait for update/done/kill/timeout.
// One-shot, the first update/done ends it with its answer; following, each
// state is an event until "done". Owned by its feed handle; Redis replies
// hold only a weak_ptr, so a client that leaves frees the watch (and its
// share of the subscription) at once, and late replies find nothing.
class watch final : public feed::source,
                    public redis::channel_listener,
                    public std::enable_shared_from_this<watch> {
public:
    watch(task_service& service, std::string_view id, feed::sink& sink, watch_options options);
    ~watch() override;
    watch(const watch&) = delete;
    watch& operator=(const watch&) = delete;

    void start();
    // Ends the watch from outside (timeout, shutdown): tells the sink.
    void finish(feed::end_reason reason, std::string_view value = {});
    // The client left: release everything at once and tell nobody.
    void cancel() noexcept override;
    // Re-reads the data key after Redis came back; only "done" ends it.
    void recheck();

    // Membership in the service's list of live watches.
    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>
        registry_hook;

private:
    enum class phase : std::uint8_t {
        subscribing, // until Redis confirms the channel
        reading,     // the initial GET of the data key
        announcing,  // our kill message is published, its reply not yet back
        waiting,     // established: the client has the head
        finished
    };
    enum class read_purpose : std::uint8_t { initial, after_update, after_reconnect };

    void on_subscribed() override;
    void on_message(std::string_view payload) override;

    void read(read_purpose purpose, bool done_message = false);
    void on_read(read_purpose purpose, bool done_message, const redis::reply& r);
    void announce();
    void on_announced(const redis::reply& r);
    void handle_update(const channel_message& m, std::string_view payload);
    void deliver(bool done, std::string_view value);
    void arm_timeout();
    void release();

    task_service& service_;
    feed::sink* sink_;
    std::string channel_; // prefix + "SC_" + id; the id is its tail
    std::size_t id_offset_;
    std::array<char, 36> uuid_;
    phase phase_ = phase::subscribing;
    watch_options options_;
    redis::subscription subscription_;
    // An update/done that arrived while the initial read was in flight,
    // applied as soon as the watch is established.
    std::optional<std::string> early_message_;
    // Following: the value read at the start, the first event once open.
    std::string first_value_;
    // Redis delivers a channel's messages in publish order. A kill that
    // arrives after our own came back was published after ours: a newer
    // watch. One that arrives before it is from an older watch and ignored.
    bool killable_ = false;
    // An update could not be read (command connection down): read again
    // when the connection is back, as if the update came then.
    bool update_unread_ = false;
    bool unread_update_done_ = false;
    std::optional<boost::asio::steady_timer> timeout_timer_;
};

} // namespace rpd::tasks
