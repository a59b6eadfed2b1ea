#include "redis_push/app/server.hpp"

#include <boost/asio/ip/address.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>

namespace rpd::app {

namespace {
constexpr auto drain_poll = std::chrono::milliseconds(20);
constexpr auto drain_limit = std::chrono::seconds(5);

// Closing a session unlinks it from the list: step past it first.
template <class Fn> void for_each_session(http::session_list& sessions, Fn fn) {
    for (auto it = sessions.begin(); it != sessions.end();) {
        auto& s = *it++;
        fn(s);
    }
}

redis::endpoint endpoint_of(const config::redis_settings& r) {
    redis::endpoint ep;
    ep.host = r.host;
    ep.port = r.port;
    ep.unix_socket = r.unix_socket;
    ep.username = r.username;
    ep.password = r.password;
    ep.db = r.db;
    ep.connect_timeout = r.connect_timeout;
    ep.command_timeout = r.command_timeout;
    return ep;
}

tasks::task_settings task_settings_of(const config::settings& s) {
    return {s.redis.prefix, s.watch.timeout};
}

streams::stream_mode_settings stream_settings_of(const config::settings& s) {
    streams::stream_mode_settings out;
    out.key_prefix = s.redis.prefix + "S_";
    out.db = s.redis.db;
    out.read_batch = s.stream.max_count;
    out.recheck = s.modes.recheck;
    out.claim_idle = s.stream.claim_idle;
    return out;
}

queues::queue_mode_settings queue_settings_of(const config::settings& s) {
    queues::queue_mode_settings out;
    out.prefix = s.redis.prefix;
    out.db = s.redis.db;
    out.visibility = s.queue.visibility_timeout;
    out.recheck = s.modes.recheck;
    return out;
}

mailboxes::mailbox_mode_settings mailbox_settings_of(const config::settings& s) {
    mailboxes::mailbox_mode_settings out;
    out.key_prefix = s.mailbox.key_prefix;
    out.notify_list = s.mailbox.enabled ? s.mailbox.notify_list : std::string();
    out.db = s.redis.db;
    out.recheck = s.modes.recheck;
    // Well inside the command time-out, which would take a longer block
    // for a stuck server.
    out.notify_block = std::min<std::chrono::milliseconds>(
        std::chrono::seconds(1),
        std::chrono::duration_cast<std::chrono::milliseconds>(s.redis.command_timeout) / 2);
    return out;
}

streams::history_mode_settings history_settings_of(const config::settings& s) {
    streams::history_mode_settings out;
    out.key_prefix = s.redis.prefix + "S_";
    out.max_limit = s.stream.max_count;
    out.max_scan = s.history.max_scan;
    out.accept_timeout = s.history.accept_timeout;
    return out;
}

// The notification classes the enabled modes' doorbells listen to.
std::string keyspace_flags_of(const config::settings& s) {
    std::string flags;
    if (s.stream.enabled)
        flags += 't';
    if (s.queue.enabled || s.mailbox.enabled)
        flags += 'l';
    return flags;
}
} // namespace

server::server(config::settings settings, std::string config_path)
    : settings_(std::move(settings)), config_path_(std::move(config_path)),
      commands_(ioc_, endpoint_of(settings_.redis)),
      subscribers_(ioc_, endpoint_of(settings_.redis), settings_.redis.subscriber_connections,
                   settings_.redis.prefix + "push-daemon:health"),
      tasks_(ioc_, commands_, subscribers_, task_settings_of(settings_)),
      streams_(ioc_, commands_, subscribers_, stream_settings_of(settings_)),
      queues_(ioc_, commands_, subscribers_, queue_settings_of(settings_)),
      mailboxes_(ioc_, commands_, subscribers_, endpoint_of(settings_.redis),
                 mailbox_settings_of(settings_)),
      history_(ioc_, commands_, history_settings_of(settings_)),
      keyspace_events_(commands_, settings_.redis.keyspace_events == "auto",
                       keyspace_flags_of(settings_)),
      http_(settings_),
      endpoints_(
          settings_, {tasks_, streams_, queues_, mailboxes_, history_},
          [this] { return redis_up(); }, [this] { return render_metrics(); }, http_),
      signals_(ioc_, SIGTERM, SIGINT), hangup_(ioc_, SIGHUP), watchdog_timer_(ioc_),
      drain_timer_(ioc_), trimmer_(ioc_, [this] {
          return static_cast<std::size_t>(http_.metrics.connections_open) +
                 subscribers_.channel_count();
      }) {
    commands_.on_ready([this] {
        // A task finished while the command connection was down must still
        // reach its watches; the subscriber side re-checks on resubscribe.
        tasks_.recheck_all();
        keyspace_events_.ensure();
        streams_.recheck_all();
        queues_.recheck_all();
        mailboxes_.recheck_all();
        on_redis_ready();
    });
    subscribers_.on_ready([this] { on_redis_ready(); });
    http_.max_body_bytes =
        std::max<std::uint64_t>(http_.max_body_bytes, settings_.queue.max_message_bytes);
    const auto address = boost::asio::ip::make_address(settings_.http.address);
    listener_ = std::make_shared<http::listener>(
        ioc_, boost::asio::ip::tcp::endpoint(address, settings_.http.port), http_);
}

server::~server() = default;

bool server::redis_up() const {
    return commands_.ready() && subscribers_.all_ready();
}

int server::run() {
    wait_for_signal();
    wait_for_hangup();
    commands_.start();
    subscribers_.start();
    listener_->run();
    spdlog::info("redis-push-daemon {} listening on {}:{}", RPD_VERSION, settings_.http.address,
                 listener_->local_endpoint().port());
    if (!redis_up())
        systemd_.notify("STATUS=Waiting for Redis at " +
                        (settings_.redis.unix_socket.empty()
                             ? settings_.redis.host + ":" + std::to_string(settings_.redis.port)
                             : settings_.redis.unix_socket));
    arm_watchdog();
    trimmer_.start();
    streams_.start();
    if (settings_.queue.enabled)
        queues_.start();
    if (settings_.mailbox.enabled)
        mailboxes_.start();
    ioc_.run();
    spdlog::info("stopped");
    return 0;
}

void server::wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (!ec)
            begin_shutdown(sig);
    });
}

void server::wait_for_hangup() {
    hangup_.async_wait([this](const boost::system::error_code& ec, int) {
        if (ec)
            return;
        reload();
        wait_for_hangup();
    });
}

// systemd learns we are ready once we listen and every Redis connection is
// up: before that, polls would only get 503s.
void server::on_redis_ready() {
    if (ready_announced_ || stopping_ || !redis_up())
        return;
    ready_announced_ = true;
    systemd_.notify("READY=1\nSTATUS=Serving on " + settings_.http.address + ":" +
                    std::to_string(settings_.http.port));
}

// WATCHDOG=1 comes from the event loop itself, so a stuck loop stops it.
void server::arm_watchdog() {
    const auto interval = systemd_.watchdog_interval();
    // A wait that completed just before shutdown cancelled it must not
    // start another: the loop could then never run out of work.
    if (!interval || stopping_)
        return;
    systemd_.notify("WATCHDOG=1");
    watchdog_timer_.expires_after(*interval);
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec)
            arm_watchdog();
    });
}

// Staged: stop accepting; end every watch with the shutdown error; close
// idle connections; let answers in flight go out (bounded by drain_limit);
// then close Redis. The loop then runs out of work and run() returns.
void server::begin_shutdown(int signal_number) {
    if (stopping_)
        return;
    stopping_ = true;
    spdlog::info("signal {}: shutting down", signal_number);
    systemd_.notify("STOPPING=1");
    watchdog_timer_.cancel();
    trimmer_.stop();
    hangup_.cancel();
    listener_->stop();
    http_.shutting_down = true;
    tasks_.shutdown();
    streams_.shutdown();
    queues_.shutdown();
    mailboxes_.shutdown();
    history_.shutdown();
    for_each_session(http_.sessions, [](http::session_base& s) { s.shutdown(); });
    drain_deadline_ = std::chrono::steady_clock::now() + drain_limit;
    drain_step();
}

void server::drain_step() {
    if (http_.sessions.empty())
        return finish_shutdown();
    if (std::chrono::steady_clock::now() >= drain_deadline_) {
        spdlog::warn("shutdown: closing connections that did not finish in time");
        for_each_session(http_.sessions, [](http::session_base& s) { s.abort(); });
        return finish_shutdown();
    }
    drain_timer_.expires_after(drain_poll);
    drain_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec)
            drain_step();
    });
}

void server::finish_shutdown() {
    commands_.stop();
    subscribers_.stop();
    signals_.cancel();
}

} // namespace rpd::app
