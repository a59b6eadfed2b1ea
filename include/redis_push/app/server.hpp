#pragma once

#include "redis_push/app/endpoints.hpp"
#include "redis_push/app/memory_trimmer.hpp"
#include "redis_push/app/systemd_notify.hpp"
#include "redis_push/config/config.hpp"
#include "redis_push/http/context.hpp"
#include "redis_push/http/listener.hpp"
#include "redis_push/redis/command_connection.hpp"
#include "redis_push/redis/keyspace_events.hpp"
#include "redis_push/redis/subscriber_pool.hpp"
#include "redis_push/streams/history_service.hpp"
#include "redis_push/streams/stream_service.hpp"
#include "redis_push/tasks/task_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace rpd::app {

// Wires the layers together and owns them, in the order they are built:
// io_context, Redis connections, task service, HTTP context and listener.
// Shutdown runs the other way round (see docs/architecture.md).
class server {
public:
    // `config_path` is re-read on SIGHUP; empty when running on defaults.
    server(config::settings settings, std::string config_path);
    ~server();

    // Runs the event loop until shutdown completes. Returns the exit code.
    int run();

    bool redis_up() const;
    std::string render_metrics() const;

private:
    void wait_for_signal();
    void wait_for_hangup();
    void reload();
    void on_redis_ready();
    void arm_watchdog();
    void begin_shutdown(int signal_number);
    void drain_step();
    void finish_shutdown();

    config::settings settings_;
    std::string config_path_;
    systemd_notifier systemd_;
    boost::asio::io_context ioc_{1};
    redis::command_connection commands_;
    redis::subscriber_pool subscribers_;
    tasks::task_service tasks_;
    streams::stream_service streams_;
    queues::queue_service queues_;
    mailboxes::mailbox_service mailboxes_;
    streams::history_service history_;
    redis::keyspace_events keyspace_events_;
    http::context http_;
    endpoint_set endpoints_;
    std::shared_ptr<http::listener> listener_;
    boost::asio::signal_set signals_;
    boost::asio::signal_set hangup_;
    boost::asio::steady_timer watchdog_timer_;
    boost::asio::steady_timer drain_timer_;
    memory_trimmer trimmer_;
    std::chrono::steady_clock::time_point drain_deadline_;
    bool stopping_ = false;
    bool ready_announced_ = false;
};

} // namespace rpd::app
