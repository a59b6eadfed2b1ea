#pragma once

#include "redis_push/http/transport_sink.hpp"

#include <string>

namespace rpd::http {

// A history page (MODES.md 3): never waits and never streams; its end
// answers 200 with the page as it is, plus `X-Stream-Gap` when the page's
// `after` had been trimmed away. An error end answers with its status.
class page_sink final : public transport_sink {
public:
    explicit page_sink(held_response& out) : out_(out) {}

    void opened() override {}
    void event(std::string_view, std::string_view, std::string_view) override {}
    void gap(std::string_view first) override { gap_.assign(first); }
    void ended(feed::end_reason reason, std::string_view value) override;

private:
    held_response& out_;
    std::string gap_;
};

} // namespace rpd::http
