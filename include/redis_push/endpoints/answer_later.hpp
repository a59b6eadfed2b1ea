#pragma once

#include "redis_push/feed/pending_answer.hpp"
#include "redis_push/http/endpoint.hpp"

#include <memory>

namespace rpd::endpoints {

// A command's answer (a publish, an ack) held like any feed on `transport`:
// `start` gets the pending answer to finish once Redis has replied, and a
// client that leaves first cancels it.
template <class Start>
void answer_later(http::exchange& ex, http::transport transport, Start start) {
    ex.hold(transport, [&](feed::sink& sink) {
        auto pending = std::make_shared<feed::pending_answer>(sink);
        start(pending);
        return feed::handle(pending);
    });
}

} // namespace rpd::endpoints
