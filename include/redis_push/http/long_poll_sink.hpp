#pragma once

#include "redis_push/http/transport_sink.hpp"

namespace rpd::http {

// The classic watch (PROTOCOL.md §2): a 200 head once established, a `\n`
// every watch.keepalive_seconds, then one final body, the answer or an
// error object. Intermediate events are not part of this transport.
class long_poll_sink final : public transport_sink {
public:
    explicit long_poll_sink(held_response& out) : out_(out) {}

    void opened() override;
    void event(std::string_view, std::string_view, std::string_view) override {}
    void ended(feed::end_reason reason, std::string_view value) override;

private:
    held_response& out_;
};

} // namespace rpd::http
