#include "redis_push/streams/stream_service.hpp"

#include "redis_push/redis/argv.hpp"
#include "redis_push/redis/keyspace_events.hpp"
#include "redis_push/streams/stream_channel.hpp"
#include "redis_push/util/visit_held.hpp"

#include <chrono>
#include <utility>

namespace rpd::streams {

stream_service::stream_service(boost::asio::io_context& ioc, redis::command_connection& commands,
                               redis::subscriber_pool& subscribers, stream_mode_settings settings)
    : ioc_(ioc), commands_(commands), subscribers_(subscribers), settings_(std::move(settings)),
      recheck_timer_(ioc) {}

stream_service::~stream_service() = default;

std::string stream_service::doorbell_of(const std::string& key) const {
    return redis::keyspace_channel(settings_.db, key);
}

std::shared_ptr<stream_channel> stream_service::channel_for(std::string_view name) {
    std::string key = settings_.key_prefix;
    key.append(name);
    if (const auto it = channels_.find(key); it != channels_.end())
        return it->second->shared_from_this();
    auto channel = std::make_shared<stream_channel>(*this, key, next_slice_++ % recheck_slices);
    channels_.emplace(std::move(key), channel.get());
    channel->open();
    return channel;
}

feed::handle stream_service::subscribe(std::string_view name, feed::sink& sink,
                                       subscribe_options options) {
    auto s = std::make_shared<stream_subscriber>(*this, channel_for(name), sink, options);
    s->start();
    return feed::handle(std::move(s));
}

feed::handle stream_service::read_group(std::string_view name, feed::sink& sink,
                                        group_options options) {
    auto g = std::make_shared<group_reader>(*this, channel_for(name), sink, std::move(options));
    g->start();
    return feed::handle(std::move(g));
}

void stream_service::publish(std::string_view name, const field_list& fields, std::uint32_t maxlen,
                             std::function<void(const publish_result&)> done) {
    std::string key = settings_.key_prefix;
    key.append(name);
    redis::argv args{"XADD", key};
    if (maxlen > 0)
        args.add("MAXLEN").add("~").add_number(maxlen);
    args.add("*");
    for (const auto& [field, value] : fields)
        args.add(field).add(value);
    commands_.command(args, [done = std::move(done)](const redis::reply& r) {
        using kind = redis::reply::kind;
        if (r.type == kind::value)
            return done({publish_result::kind::published, std::string(r.value)});
        if (r.type == kind::error && r.value.starts_with("WRONGTYPE"))
            return done({publish_result::kind::wrong_type, {}});
        done({publish_result::kind::unavailable, {}});
    });
}

void stream_service::ack(std::string_view name, std::string_view group,
                         const std::vector<std::string>& ids,
                         std::function<void(const ack_result&)> done) {
    std::string key = settings_.key_prefix;
    key.append(name);
    redis::argv args{"XACK", key, group};
    for (const auto& id : ids)
        args.add(id);
    commands_.command(args, [done = std::move(done)](const redis::reply& r) {
        using kind = redis::reply::kind;
        if (r.type == kind::integer)
            return done({ack_result::kind::acked, r.integer});
        if (r.type == kind::error && r.value.starts_with("WRONGTYPE"))
            return done({ack_result::kind::wrong_type, 0});
        // No such key or group: nothing was pending, nothing acknowledged.
        if (r.type == kind::error && r.value.starts_with("NOGROUP"))
            return done({ack_result::kind::acked, 0});
        done({ack_result::kind::unavailable, 0});
    });
}

void stream_service::start() {
    arm_recheck();
}

// Notifications are fire-and-forget: a stream with clients is read at least
// every recheck interval whatever arrived (MODES.md 0).
void stream_service::arm_recheck() {
    if (shutting_down_)
        return;
    recheck_timer_.expires_after(settings_.recheck / recheck_slices);
    recheck_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;
        recheck_due();
        arm_recheck();
    });
}

// One XREAD over many keys answers only for those with new entries: the
// re-check of 10,000 quiet streams is a few dozen commands, not 10,000.
//
// Each channel belongs to one of recheck_slices slices, and each tick (every
// recheck / slices) re-checks one slice: a channel is still visited once per
// re-check interval, but 10,000 streams are not read in one burst that the
// live traffic would queue behind.
void stream_service::recheck_due() {
    constexpr std::size_t keys_per_read = 256;
    const auto now = std::chrono::steady_clock::now();
    const auto slice = recheck_tick_++ % recheck_slices;
    std::vector<std::shared_ptr<stream_channel>> due;
    for_each_channel([&](stream_channel& c) {
        if (c.slice() != slice)
            return;
        c.wake_waiters();
        if (c.due_for_recheck(now, settings_.recheck - settings_.recheck / recheck_slices))
            due.push_back(c.shared_from_this());
    });
    for (std::size_t first = 0; first < due.size(); first += keys_per_read) {
        const auto last = std::min(due.size(), first + keys_per_read);
        std::vector<std::weak_ptr<stream_channel>> batch;
        std::vector<std::string> starts;
        redis::argv args{"XREAD", "COUNT"};
        args.add_number(settings_.read_batch).add("STREAMS");
        for (auto i = first; i < last; ++i) {
            args.add(due[i]->key());
            batch.push_back(due[i]);
        }
        for (auto i = first; i < last; ++i) {
            args.add_copy(due[i]->read_from().text());
            due[i]->begin_shared_read();
        }
        commands_.command(args, [batch = std::move(batch)](const redis::reply& r) {
            using kind = redis::reply::kind;
            const bool down = r.type == kind::unavailable;
            const bool failed = r.type != kind::array && r.type != kind::nil && !down;
            for (const auto& weak : batch) {
                const auto c = weak.lock();
                if (!c)
                    continue;
                if (down) { // the reconnect re-checks everything
                    c->end_batched_read_unavailable();
                    continue;
                }
                if (failed) {
                    c->end_batched_read_failed();
                    continue;
                }
                // [[key, entries], ...] for the keys with something new.
                const redis::reply* mine = nullptr;
                std::optional<redis::reply> found;
                for (const auto e : r)
                    if (e.type == kind::array && e.size() == 2 && e[0].value == c->key()) {
                        found = e[1];
                        mine = &*found;
                        break;
                    }
                c->end_batched_read(mine);
            }
        });
    }
}

void stream_service::recheck_all() {
    for_each_channel([](stream_channel& c) { c.ring(); });
}

void stream_service::shutdown() {
    shutting_down_ = true;
    recheck_timer_.cancel();
    for_each_channel([](stream_channel& c) { c.end_all(feed::end_reason::shutting_down); });
}

template <class Fn> void stream_service::for_each_channel(Fn fn) {
    util::visit_held(channels_, fn);
}

} // namespace rpd::streams
