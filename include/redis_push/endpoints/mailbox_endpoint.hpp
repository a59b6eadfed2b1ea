#pragma once

#include "redis_push/config/config.hpp"
#include "redis_push/endpoints/mode_name.hpp"
#include "redis_push/http/endpoint.hpp"
#include "redis_push/mailboxes/mailbox_service.hpp"

#include <string_view>

namespace rpd::endpoints {

inline constexpr std::string_view mailbox_prefix = "/mailbox/";

// GET /mailbox/<identity> (MODES.md 2): everything queued, as one JSON
// array, or a wait for the first message; HEAD tells the length and never
// takes. The WebSocket side (identify) is ws_client's.
class mailbox_endpoint final : public http::endpoint {
public:
    mailbox_endpoint(mailboxes::mailbox_service& mailboxes,
                     const config::mailbox_settings& settings, const mode_names& names)
        : mailboxes_(mailboxes), settings_(settings), names_(names) {}

    void serve(http::exchange& ex) override;

private:
    mailboxes::mailbox_service& mailboxes_;
    const config::mailbox_settings& settings_;
    const mode_names& names_;
};

} // namespace rpd::endpoints
