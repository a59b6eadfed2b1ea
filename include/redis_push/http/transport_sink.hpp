#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/http/endpoint.hpp"
#include "redis_push/http/held_response.hpp"

#include <memory>

namespace rpd::http {

// A sink the session owns; one kind per transport.
class transport_sink : public feed::sink {
public:
    virtual ~transport_sink() = default;
};

// The sink that frames `t` onto `out`.
std::unique_ptr<transport_sink> make_sink(transport t, held_response& out);

} // namespace rpd::http
