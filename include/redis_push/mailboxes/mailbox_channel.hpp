#pragma once

#include "redis_push/feed/end_reason.hpp"
#include "redis_push/mailboxes/mailbox_reader.hpp"
#include "redis_push/redis/reply.hpp"
#include "redis_push/redis/subscription.hpp"

#include <boost/intrusive/list.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace rpd::mailboxes {

class mailbox_service;

// Everything this daemon does for one mailbox with local readers: the
// doorbell (keyspace notifications of its list, and rings from the notify
// list) and the drains. A drain takes what is queued in one LPOP and gives
// it to the identified socket when there is one, else to the oldest
// waiting long-poll (MODES.md 6, "Mailbox waiters"). Owned by its readers.
class mailbox_channel final : public redis::channel_listener,
                              public std::enable_shared_from_this<mailbox_channel> {
public:
    mailbox_channel(mailbox_service& service, std::string key);
    ~mailbox_channel();
    mailbox_channel(const mailbox_channel&) = delete;
    mailbox_channel& operator=(const mailbox_channel&) = delete;

    const std::string& key() const { return key_; }
    void open();
    // A long-poll joins the line; a socket takes the identity over (the
    // older socket, if any, ends with `killed`).
    void add(mailbox_reader& r);
    void left(mailbox_reader& r);

    void ring();
    void recheck(std::chrono::steady_clock::time_point now,
                 std::chrono::steady_clock::duration quiet);
    void end_all(feed::end_reason reason);

private:
    void on_subscribed() override { ring(); }
    void on_message(std::string_view event) override;
    mailbox_reader* next_reader();
    void drain();
    void on_drained(const redis::reply& r);

    using line_list = boost::intrusive::list<
        mailbox_reader,
        boost::intrusive::member_hook<mailbox_reader, decltype(mailbox_reader::channel_hook),
                                      &mailbox_reader::channel_hook>,
        boost::intrusive::constant_time_size<false>>;

    mailbox_service& service_;
    std::string key_;
    redis::subscription doorbell_;
    mailbox_reader* socket_ = nullptr; // the identified WebSocket, if any
    line_list line_;                   // waiting long-polls, oldest first
    std::weak_ptr<mailbox_reader> draining_for_;
    bool draining_ = false;
    bool rang_ = false;
    std::chrono::steady_clock::time_point last_drain_{};
};

} // namespace rpd::mailboxes
