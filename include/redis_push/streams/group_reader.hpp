#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/redis/argv.hpp"
#include "redis_push/redis/reply.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list_hook.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace rpd::streams {

class stream_service;
class stream_channel;

// A consumer-group read (MODES.md 3, 4).
struct group_options {
    std::string group;
    std::string consumer;
    std::size_t count = 100;
    bool pending = false;       // this consumer's own unacknowledged entries instead
    bool start_at_zero = false; // a group created now starts at 0, not $
    bool one_shot = true;       // long-poll: end after the first messages
    std::chrono::milliseconds wait{0};
};

// Reads for one consumer of a group: first claims entries idle too long on
// another consumer (XAUTOCLAIM), then new ones (XREADGROUP >); with none,
// waits on the stream's channel. Waiters of one group are woken oldest
// first, one at a time: a doorbell costs one read for the group, not one
// per waiting consumer.
class group_reader final : public feed::source, public std::enable_shared_from_this<group_reader> {
public:
    group_reader(stream_service& service, std::shared_ptr<stream_channel> channel, feed::sink& sink,
                 group_options options);
    ~group_reader() override;
    group_reader(const group_reader&) = delete;
    group_reader& operator=(const group_reader&) = delete;

    void start();
    void cancel() noexcept override;
    const std::string& group() const { return options_.group; }
    // The channel rang: read again (the reader has left the waiters).
    void wake();
    void end(feed::end_reason reason);

    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>
        channel_hook;

private:
    // Sends `args`; the reply goes to `then` while the reader lives.
    template <class Then> void send(const redis::argv& args, Then then);
    void read_pending();
    void claim();
    void on_claim(const redis::reply& r);
    void read_new();
    void on_read(const redis::reply& r);
    void create_group();
    void on_created(const redis::reply& r);
    // Hands entries over, then ends (one-shot) or reads on.
    void take(const redis::reply& entries);
    bool fail_on(const redis::reply& r);
    void wait();
    void release();

    stream_service& service_;
    std::shared_ptr<stream_channel> channel_;
    feed::sink* sink_;
    group_options options_;
    std::optional<boost::asio::steady_timer> wait_timer_;
    bool created_group_ = false;
    bool opened_ = false;
    bool wait_over_ = false; // one-shot: the time ran out while a read was in flight
};

} // namespace rpd::streams
