#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/redis/command_connection.hpp"
#include "redis_push/redis/subscriber_pool.hpp"
#include "redis_push/streams/group_reader.hpp"
#include "redis_push/streams/stream_message.hpp"
#include "redis_push/streams/stream_settings.hpp"
#include "redis_push/streams/stream_subscriber.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rpd::streams {

class stream_channel;

// Counters the stream mode keeps for /metrics.
struct stream_counters {
    std::uint64_t subscribers = 0;        // open subscriptions and waiting group reads
    std::uint64_t messages_delivered = 0; // messages handed to clients
    std::uint64_t shared_reads = 0;       // reads of new entries (each serving every subscriber)
    std::uint64_t messages_claimed = 0;   // taken over from an idle consumer (XAUTOCLAIM)
};

// The stream mode on top of the Redis layer (MODES.md 3): subscriptions
// and consumer-group reads as feeds, publish and ack. One channel per
// stream key with local clients; the Redis connections are the shared
// ones, whatever the number of clients.
class stream_service {
public:
    stream_service(boost::asio::io_context& ioc, redis::command_connection& commands,
                   redis::subscriber_pool& subscribers, stream_mode_settings settings);
    ~stream_service();
    stream_service(const stream_service&) = delete;
    stream_service& operator=(const stream_service&) = delete;

    // `name` is the client's (unprefixed) stream name. The sink hears
    // position(), maybe gap(), events ("message", json, offset), flush()
    // after each burst, and for a one-shot feed ended(delivered) (also when
    // nothing came). Errors: unavailable, wrong_type, shutting_down. Nothing
    // is called back from inside this call.
    feed::handle subscribe(std::string_view name, feed::sink& sink, subscribe_options options);
    feed::handle read_group(std::string_view name, feed::sink& sink, group_options options);

    struct publish_result {
        enum class kind { published, wrong_type, unavailable } type;
        std::string offset;
    };
    // XADD with MAXLEN ~ maxlen (0: untrimmed).
    void publish(std::string_view name, const field_list& fields, std::uint32_t maxlen,
                 std::function<void(const publish_result&)> done);

    struct ack_result {
        enum class kind { acked, wrong_type, unavailable } type;
        long long count = 0;
    };
    void ack(std::string_view name, std::string_view group, const std::vector<std::string>& ids,
             std::function<void(const ack_result&)> done);

    // Starts the periodic re-check.
    void start();
    // Every stream with clients is read again (after a reconnect).
    void recheck_all();
    // Every feed ends with shutting_down, and so does every feed started
    // from now on.
    void shutdown();

    const stream_counters& counters() const { return counters_; }
    std::size_t channel_count() const { return channels_.size(); }

private:
    friend class stream_channel;
    friend class stream_subscriber;
    friend class group_reader;

    std::shared_ptr<stream_channel> channel_for(std::string_view name);
    void forget(const std::string& key) { channels_.erase(key); }
    std::string doorbell_of(const std::string& key) const;
    void arm_recheck();
    void recheck_due();
    template <class Fn> void for_each_channel(Fn fn);

    boost::asio::io_context& io() { return ioc_; }
    redis::command_connection& commands() { return commands_; }
    redis::subscriber_pool& subscribers() { return subscribers_; }
    const stream_mode_settings& settings() const { return settings_; }
    stream_counters& tally() { return counters_; }
    bool shutting_down() const { return shutting_down_; }

    boost::asio::io_context& ioc_;
    redis::command_connection& commands_;
    redis::subscriber_pool& subscribers_;
    stream_mode_settings settings_;
    stream_counters counters_;
    std::unordered_map<std::string, stream_channel*> channels_; // each removes itself
    boost::asio::steady_timer recheck_timer_;
    bool shutting_down_ = false;
};

} // namespace rpd::streams
