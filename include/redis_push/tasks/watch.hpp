#pragma once

#include "redis_push/redis/subscription.hpp"
#include "redis_push/tasks/message.hpp"
#include "redis_push/tasks/outcome.hpp"

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

// What a watch tells whoever answers the client (the HTTP session).
class watch_observer {
public:
    // The task is pending: send the response head, start keepalives.
    virtual void on_watch_established() = 0;
    // The end. `value` is the answer for found/delivered, empty otherwise;
    // it is valid only during the call. Called exactly once, never from
    // inside watch::start().
    virtual void on_watch_finished(outcome result, std::string_view value) = 0;

protected:
    ~watch_observer() = default;
};

// One client's wait for one task:
//   subscribe -> confirmed -> read data key -> (done/missing/bad: answer)
//   -> publish kill(uuid) -> established -> wait for update/done/kill/timeout.
// Owned by its HTTP session through a shared_ptr; Redis replies hold only a
// weak_ptr, so a client that leaves frees the watch (and its share of the
// subscription) at once, and late replies find nothing.
class watch final : public redis::channel_listener, public std::enable_shared_from_this<watch> {
public:
    watch(task_service& service, std::string_view id, watch_observer& observer);
    ~watch();
    watch(const watch&) = delete;
    watch& operator=(const watch&) = delete;

    void start();
    // Ends the watch from outside (timeout, shutdown): tells the observer.
    void finish(outcome result, std::string_view value = {});
    // The client left: release everything at once and tell nobody.
    void abandon();
    // Re-reads the data key after Redis came back; only "done" ends it.
    void recheck();

    bool established() const { return phase_ == phase::waiting; }

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

    void read(read_purpose purpose);
    void on_read(read_purpose purpose, const redis::reply& r);
    void announce();
    void on_announced(const redis::reply& r);
    void handle_update(channel_message::kind type, std::string_view payload);
    void arm_timeout();
    void release();

    task_service& service_;
    watch_observer* observer_;
    std::string channel_; // prefix + "SC_" + id; the id is its tail
    std::size_t id_offset_;
    std::array<char, 36> uuid_;
    phase phase_ = phase::subscribing;
    redis::subscription subscription_;
    // An update/done that arrived while the initial read was in flight,
    // applied as soon as the watch is established.
    std::optional<std::string> early_message_;
    // Redis delivers a channel's messages in publish order. A kill that
    // arrives after our own came back was published after ours: a newer
    // watch. One that arrives before it is from an older watch and ignored.
    bool killable_ = false;
    // An update could not be read (command connection down): read again
    // when the connection is back, as if the update came then.
    bool update_unread_ = false;
    std::optional<boost::asio::steady_timer> timeout_timer_;
};

} // namespace rpd::tasks
