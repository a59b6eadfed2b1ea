#pragma once

#include "redis_push/http/transport_sink.hpp"

#include <string>

namespace rpd::http {

// A queue or mailbox long-poll (MODES.md 1, 2): nothing is sent while it
// waits (no keepalive: the status is not known before the end), then one
// complete answer: 200 with the item, or the end's error status (504 on
// time-out). The event's type says the body's kind ("json", else text);
// its id, when there is one, is the delivery id of an acknowledged take.
// An event of type "length" is a HEAD's answer: X-Queue-Length, no body.
// The item's receipt is settled by the write of that answer.
class item_sink final : public transport_sink {
public:
    explicit item_sink(held_response& out) : out_(out) {}

    void opened() override {}
    void event(std::string_view type, std::string_view data, std::string_view id) override;
    void hand_over(feed::receipt r) override { receipt_ = std::move(r); }
    void ended(feed::end_reason reason, std::string_view value) override;

private:
    held_response& out_;
    std::string body_;
    std::string headers_;
    bool json_ = false;
    feed::receipt receipt_;
};

} // namespace rpd::http
