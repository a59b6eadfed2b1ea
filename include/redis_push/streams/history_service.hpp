#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/redis/command_connection.hpp"
#include "redis_push/streams/history_fetch.hpp"
#include "redis_push/streams/history_page.hpp"
#include "redis_push/streams/history_settings.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace rpd::streams {

// The history mode (MODES.md 3): paged reads and flow-controlled fetches of
// the streams' entries. Both only read, on the shared command connection
// with bounded XRANGE / XREVRANGE batches; neither subscribes to anything.
class history_service {
public:
    history_service(boost::asio::io_context& ioc, redis::command_connection& commands,
                    history_mode_settings settings)
        : ioc_(ioc), commands_(commands), settings_(std::move(settings)) {}
    history_service(const history_service&) = delete;
    history_service& operator=(const history_service&) = delete;

    // `name` is the client's (unprefixed) stream name. Nothing is called
    // back from inside these calls.
    feed::handle read_page(std::string_view name, feed::sink& sink, page_request req);
    // The caller keeps the fetch to pass on acceptances; destroying it
    // without cancel() first is a leak of nothing but a late reply's work.
    std::shared_ptr<history_fetch> fetch(std::string_view name, feed::sink& sink,
                                         fetch_request req);

    // Pages and fetches started from now on end with shutting_down; the
    // running ones end with their connections.
    void shutdown() { shutting_down_ = true; }

    const history_counters& counters() const { return counters_; }
    const history_mode_settings& settings() const { return settings_; }

private:
    friend class history_page;
    friend class history_fetch;

    std::string key_of(std::string_view name) const {
        return settings_.key_prefix + std::string(name);
    }
    boost::asio::io_context& io() { return ioc_; }
    redis::command_connection& commands() { return commands_; }
    history_counters& tally() { return counters_; }
    bool shutting_down() const { return shutting_down_; }

    boost::asio::io_context& ioc_;
    redis::command_connection& commands_;
    history_mode_settings settings_;
    history_counters counters_;
    bool shutting_down_ = false;
};

} // namespace rpd::streams
