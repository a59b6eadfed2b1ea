// ws_client, the mailbox part (MODES.md 2, 4): redis-ws-alerts' identify.

#include "redis_push/endpoints/ws_client.hpp"

#include "redis_push/http/ws_mailbox_sink.hpp"

#include <nlohmann/json.hpp>

namespace rpd::endpoints {

// One mailbox per socket: a second identify moves the socket to the new
// identity. Errors use the identify protocol's own frame shape.
void ws_client::identify(const nlohmann::json& m) {
    const auto error = [this](std::string_view text) {
        out_.send_text(http::ws_event_error(text));
    };
    if (settings_.mailboxes == nullptr)
        return error("Mailbox mode is switched off");
    const auto it = m.find("queue");
    if (it == m.end() || !it->is_string())
        return error("Invalid name");
    const auto r = settings_.mailbox_names->resolve(it->get_ref<const std::string&>(), false);
    using kind = mode_names::result::kind;
    if (r.type != kind::ok)
        return error(r.type == kind::invalid_name ? "Invalid name" : "Invalid signature");
    mailbox_.reset();
    if (!mailbox_sink_)
        mailbox_sink_ = std::make_unique<http::ws_mailbox_sink>(out_);
    mailbox_ = settings_.mailboxes->identify(r.name, *mailbox_sink_);
}

} // namespace rpd::endpoints
