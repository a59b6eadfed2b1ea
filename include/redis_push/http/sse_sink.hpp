#pragma once

#include "redis_push/http/transport_sink.hpp"

#include <string>

namespace rpd::http {

// text/event-stream (MODES.md §3, §6): `retry:` first, each event as
// `event:` plus one `data:` line per line of its data, a `:` comment every
// sse.keepalive_seconds; an error ends the stream with `event: error`.
class sse_sink final : public transport_sink {
public:
    explicit sse_sink(held_response& out) : out_(out) {}
    ~sse_sink() override;

    void opened() override;
    void event(std::string_view type, std::string_view data, std::string_view id) override;
    void gap(std::string_view first) override;
    void ended(feed::end_reason reason, std::string_view value) override;

private:
    void leave_gauge();

    held_response& out_;
    bool counted_ = false; // in the sse_connections gauge
};

// One event's bytes: `event: <type>`, a `data:` line per line of `data`
// (LF, CR LF and CR all end a line: SSE rebuilds them as LF), a blank line.
// With an `id`, an `id:` line first (EventSource's Last-Event-ID).
void append_sse_event(std::string& out, std::string_view type, std::string_view data,
                      std::string_view id = {});

} // namespace rpd::http
