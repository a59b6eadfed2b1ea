#include "redis_push/app/server.hpp"

#include <string>

namespace rpd::app {

namespace {
void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, std::uint64_t value,
            std::string_view labels = {}) {
    out.append(name);
    if (!labels.empty())
        out.append("{").append(labels).append("}");
    out.append(" ").append(std::to_string(value)).append("\n");
}
} // namespace

// Prometheus text exposition format 0.0.4.
std::string server::render_metrics() const {
    std::string out;
    out.reserve(4096);
    const auto& m = http_.metrics;

    family(out, "redis_push_connections_open", "gauge", "Open client connections.");
    sample(out, "redis_push_connections_open", m.connections_open);
    family(out, "redis_push_watches_active", "gauge", "Watches currently waiting or starting.");
    sample(out, "redis_push_watches_active", tasks_.active_watches());
    family(out, "redis_push_channels_subscribed", "gauge",
           "Task channels held on the subscriber connections.");
    sample(out, "redis_push_channels_subscribed", subscribers_.channel_count());
    family(out, "redis_push_sse_connections", "gauge",
           "Responses currently streaming text/event-stream.");
    sample(out, "redis_push_sse_connections", m.sse_connections);
    family(out, "redis_push_ws_connections", "gauge", "Open WebSocket connections.");
    sample(out, "redis_push_ws_connections", m.ws_connections);
    const auto& st = streams_.counters();
    const auto& qc = queues_.counters();
    const auto& mc = mailboxes_.counters();
    family(out, "redis_push_mailbox_waiters", "gauge",
           "Mailbox long-polls waiting for a first message.");
    sample(out, "redis_push_mailbox_waiters", mc.waiting);
    family(out, "redis_push_mailbox_sockets", "gauge", "WebSockets identified for a mailbox.");
    sample(out, "redis_push_mailbox_sockets", mc.sockets);
    family(out, "redis_push_queue_waiters", "gauge", "Clients waiting for a queue message.");
    sample(out, "redis_push_queue_waiters", qc.waiters);
    family(out, "redis_push_queue_takes_total", "counter",
           "Take commands sent to Redis (each serves every local waiter of the queue).");
    sample(out, "redis_push_queue_takes_total", qc.rounds);
    family(out, "redis_push_stream_subscribers", "gauge",
           "Open stream subscriptions: SSE streams, waiting long-polls and consumer-group reads, "
           "WebSocket subscriptions.");
    sample(out, "redis_push_stream_subscribers", st.subscribers);
    family(out, "redis_push_stream_channels", "gauge",
           "Stream keys with local clients (one keyspace doorbell and one shared read each).");
    sample(out, "redis_push_stream_channels", streams_.channel_count());
    const auto& hs = history_.counters();
    family(out, "redis_push_history_fetches_active", "gauge",
           "WebSocket history fetches started and not yet ended.");
    sample(out, "redis_push_history_fetches_active", hs.fetches_active);
    family(out, "redis_push_redis_up", "gauge", "1 when every Redis connection is ready.");
    sample(out, "redis_push_redis_up", redis_up() ? 1 : 0);

    family(out, "redis_push_requests_total", "counter", "Answered requests by mode and outcome.");
    for (std::size_t mode = 0; mode < http::request_metrics::modes; ++mode)
        for (std::size_t result = 0; result < http::request_metrics::results; ++result) {
            const auto n = m.requests[mode][result];
            if (n == 0)
                continue;
            std::string labels = "mode=\"";
            labels.append(http::to_string(static_cast<http::request_mode>(mode)))
                .append("\",outcome=\"")
                .append(http::to_string(static_cast<http::request_result>(result)))
                .append("\"");
            sample(out, "redis_push_requests_total", n, labels);
        }

    family(out, "redis_push_mode_requests_total", "counter",
           "Answered HTTP requests of the modes by mode and outcome.");
    for (const auto mode : {http::request_mode::stream, http::request_mode::queue,
                            http::request_mode::mailbox, http::request_mode::history}) {
        const auto row = static_cast<std::size_t>(mode);
        for (std::size_t result = 0; result < http::request_metrics::results; ++result) {
            const auto n = m.requests[row][result];
            if (n == 0)
                continue;
            std::string labels = "mode=\"";
            labels.append(http::to_string(mode)).append("\",outcome=\"");
            labels.append(http::to_string(static_cast<http::request_result>(result))).append("\"");
            sample(out, "redis_push_mode_requests_total", n, labels);
        }
    }
    family(out, "redis_push_messages_delivered_total", "counter",
           "Messages handed to clients, by mode.");
    sample(out, "redis_push_messages_delivered_total", st.messages_delivered, "mode=\"stream\"");
    sample(out, "redis_push_messages_delivered_total", qc.delivered, "mode=\"queue\"");
    sample(out, "redis_push_messages_delivered_total", mc.delivered, "mode=\"mailbox\"");
    sample(out, "redis_push_messages_delivered_total", hs.messages_delivered, "mode=\"history\"");
    family(out, "redis_push_messages_requeued_total", "counter",
           "Messages delivered again: for streams, entries claimed from a consumer idle longer "
           "than stream.claim_idle_ms; for queues and mailboxes, messages put back (a client "
           "left before its message was written, or a delivery was not acknowledged in time).");
    sample(out, "redis_push_messages_requeued_total", st.messages_claimed, "mode=\"stream\"");
    sample(out, "redis_push_messages_requeued_total", qc.requeued, "mode=\"queue\"");
    sample(out, "redis_push_messages_requeued_total", mc.requeued, "mode=\"mailbox\"");
    family(out, "redis_push_stream_reads_total", "counter",
           "Shared reads of new stream entries (each serves every local subscriber of the key).");
    sample(out, "redis_push_stream_reads_total", st.shared_reads);
    family(out, "redis_push_history_fetches_total", "counter",
           "Ended WebSocket history fetches by outcome: end (after the last row), stopped (the "
           "client's end or close), timeout (no acceptance in time), error (Redis failed).");
    sample(out, "redis_push_history_fetches_total", hs.fetches_completed, "outcome=\"end\"");
    sample(out, "redis_push_history_fetches_total", hs.fetches_stopped, "outcome=\"stopped\"");
    sample(out, "redis_push_history_fetches_total", hs.fetches_timed_out, "outcome=\"timeout\"");
    sample(out, "redis_push_history_fetches_total", hs.fetches_failed, "outcome=\"error\"");
    family(out, "redis_push_history_entries_examined_total", "counter",
           "Stream entries read for history pages and fetches, filtered out or not.");
    sample(out, "redis_push_history_entries_examined_total", hs.entries_examined);
    family(out, "redis_push_redis_reconnects_total", "counter",
           "Redis connections re-established after a loss.");
    sample(out, "redis_push_redis_reconnects_total", commands_.reconnects(), "role=\"command\"");
    sample(out, "redis_push_redis_reconnects_total", subscribers_.reconnects(),
           "role=\"subscriber\"");
    family(out, "redis_push_channel_messages_total", "counter",
           "Messages received on task channels.");
    sample(out, "redis_push_channel_messages_total", subscribers_.messages_received());
    family(out, "redis_push_slow_clients_dropped_total", "counter",
           "Connections dropped for not taking their output (http.max_output_bytes, or no "
           "progress for http.request_timeout_seconds).");
    sample(out, "redis_push_slow_clients_dropped_total", m.slow_clients_dropped);
    family(out, "redis_push_connections_accepted_total", "counter", "Accepted client connections.");
    sample(out, "redis_push_connections_accepted_total", m.connections_accepted);
    family(out, "redis_push_connections_rejected_total", "counter",
           "Connections closed at once because http.max_connections was reached.");
    sample(out, "redis_push_connections_rejected_total", m.connections_rejected);
    return out;
}

} // namespace rpd::app
