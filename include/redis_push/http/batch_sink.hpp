#pragma once

#include "redis_push/http/transport_sink.hpp"

#include <string>

namespace rpd::http {

// A stream long-poll (MODES.md 3): nothing is sent while it waits; its end
// answers 200 with the events' data as one JSON array (`[]` when none
// came), `X-Stream-Offset` (the last event's id, else the position) and,
// after a gap, `X-Stream-Gap`. An error end answers with its status.
class batch_sink final : public transport_sink {
public:
    explicit batch_sink(held_response& out) : out_(out) {}

    void opened() override {}
    void event(std::string_view type, std::string_view data, std::string_view id) override;
    void position(std::string_view offset) override { offset_.assign(offset); }
    void gap(std::string_view first) override { gap_.assign(first); }
    void ended(feed::end_reason reason, std::string_view value) override;

private:
    held_response& out_;
    std::string body_ = "[";
    std::string offset_;
    std::string gap_;
};

} // namespace rpd::http
