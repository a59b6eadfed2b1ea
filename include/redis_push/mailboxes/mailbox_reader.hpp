#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/redis/reply.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list_hook.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace rpd::mailboxes {

class mailbox_service;
class mailbox_channel;

// One client of a mailbox (MODES.md 2): an HTTP long-poll, which takes
// everything queued at once as one JSON array and ends (or 504s), or an
// identified WebSocket, which gets each message as its own raw frame,
// now and later, until it leaves or a newer socket of the same identity
// replaces it (ended with `killed`).
class mailbox_reader final : public feed::source,
                             public std::enable_shared_from_this<mailbox_reader> {
public:
    enum class kind { poll, socket };

    mailbox_reader(mailbox_service& service, std::shared_ptr<mailbox_channel> channel,
                   feed::sink& sink, kind k, std::chrono::milliseconds wait);
    ~mailbox_reader() override;
    mailbox_reader(const mailbox_reader&) = delete;
    mailbox_reader& operator=(const mailbox_reader&) = delete;

    void start();
    void cancel() noexcept override;

    bool reading() const { return sink_ != nullptr; }
    bool is_socket() const { return kind_ == kind::socket; }
    bool once() const { return kind_ == kind::poll && wait_.count() == 0; }
    // Whether a drain already reached Redis while it waited (a later
    // failure then keeps it waiting: the reconnect drains again).
    bool tried() const { return tried_; }
    void mark_tried() { tried_ = true; }

    // The messages taken for it (an LPOP reply's elements), each with its
    // receipt (one for all of them on a long-poll).
    void deliver(const redis::reply& items, std::vector<feed::receipt> written);
    void end(feed::end_reason reason);

    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>
        channel_hook;

private:
    void release();

    mailbox_service& service_;
    std::shared_ptr<mailbox_channel> channel_;
    feed::sink* sink_; // null once ended or cancelled
    kind kind_;
    std::chrono::milliseconds wait_;
    std::optional<boost::asio::steady_timer> wait_timer_;
    bool tried_ = false;
};

} // namespace rpd::mailboxes
