#pragma once

#include "redis_push/config/config.hpp"
#include "redis_push/endpoints/mode_name.hpp"
#include "redis_push/endpoints/ws_fetch.hpp"
#include "redis_push/feed/feed.hpp"
#include "redis_push/http/websocket.hpp"
#include "redis_push/http/ws_mailbox_sink.hpp"
#include "redis_push/http/ws_stream_sink.hpp"
#include "redis_push/mailboxes/mailbox_service.hpp"
#include "redis_push/streams/stream_service.hpp"
#include "redis_push/tasks/task_signer.hpp"

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <memory>
#include <string>

namespace rpd::endpoints {

// What a WebSocket client may reach (MODES.md 4).
struct ws_client_settings {
    streams::stream_service* streams = nullptr; // null: the stream mode is switched off
    const config::stream_settings* stream = nullptr;
    const mode_names* stream_names = nullptr;
    const tasks::task_signer* publish_signer = nullptr; // null: no token asked for
    std::uint32_t max_subscriptions = 100;
    mailboxes::mailbox_service* mailboxes = nullptr; // null: the mailbox mode is switched off
    const mode_names* mailbox_names = nullptr;
    streams::history_service* history = nullptr; // null: the history mode is switched off
};

// One WebSocket connection's side of the protocol: each text frame is one
// JSON request; stream subscriptions are feeds on ws_stream_sinks. Owned
// by the WebSocket session: destroying it ends every feed at once.
class ws_client final : public http::ws_handler {
public:
    ws_client(http::ws_output& out, const ws_client_settings& settings);
    ~ws_client() override;

    void on_message(std::string_view text) override;

private:
    struct subscription {
        std::unique_ptr<http::ws_stream_sink> sink;
        feed::handle feed; // after the sink: it goes first
        bool ended = false;
    };

    void subscribe(const nlohmann::json& m, const std::string& id);
    void unsubscribe(const nlohmann::json& m, const std::string& id);
    void publish(const nlohmann::json& m, const std::string& id);
    void ack(const nlohmann::json& m, const std::string& id);
    void identify(const nlohmann::json& m); // ws_identify.cpp
    // The stream a request names, checked; empty after an error frame.
    std::optional<std::string> stream_of(const nlohmann::json& m, const std::string& id);
    void error(std::string_view text, const std::string& id);
    void forget_ended();

    http::ws_output& out_;
    const ws_client_settings& settings_;
    std::map<std::string, subscription, std::less<>> subscriptions_; // by bare name
    std::unique_ptr<http::ws_mailbox_sink> mailbox_sink_;            // once identified
    feed::handle mailbox_;        // after its sink: it goes first
    std::shared_ptr<char> alive_; // replies to this client's commands check it
    ws_fetches fetches_;          // history fetches (fetch / accepted / end)
};

} // namespace rpd::endpoints
