#pragma once

#include "redis_push/feed/receipt.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace rpd::http {

// What a WebSocket connection's handler answers through.
class ws_output {
public:
    // Queues one text frame (copied). A client whose unsent frames exceed
    // http.max_output_bytes is dropped (counted in slow_clients_dropped); the handler is then
    // destroyed.
    virtual void send_text(std::string_view text) = 0;
    // The same for an item taken out of Redis (a mailbox message): `written`
    // is settled once the frame is written, or with false when it never
    // will be, so its owner can put the item back.
    virtual void send_item(std::string_view text, feed::receipt written) {
        send_text(text);
        written.settle(true);
    }

protected:
    ~ws_output() = default;
};

// A connection's application side (a mode dispatcher, owned by the session):
// destroyed when the connection closes for any reason - that is its only close signal, and it
// must release everything it holds then. It must not call send_text from its destructor.
class ws_handler {
public:
    virtual ~ws_handler() = default;
    // One complete message (text or binary), valid only during the call.
    virtual void on_message(std::string_view text) = 0;
};

using ws_handler_factory = std::function<std::unique_ptr<ws_handler>(ws_output&)>;

struct ws_limits {
    std::chrono::seconds ping{30};
    std::uint32_t max_message_bytes = 65536;
    std::uint32_t max_output_bytes = 1048576;
};

} // namespace rpd::http
