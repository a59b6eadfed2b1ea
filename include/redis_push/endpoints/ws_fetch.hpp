#pragma once

#include "redis_push/endpoints/mode_name.hpp"
#include "redis_push/http/websocket.hpp"
#include "redis_push/streams/history_service.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace rpd::endpoints {

// The history fetches of one WebSocket connection (MODES.md 3, 4): the
// `fetch`, `accepted` and `end` messages, and the row / end / timeout /
// error frames, each fetch told apart by its `id`. Owned by the
// connection's ws_client: destroying it frees every fetch at once.
class ws_fetches {
public:
    // `history`: null when the history mode is off.
    ws_fetches(http::ws_output& out, streams::history_service* history, const mode_names* names,
               std::uint32_t max_fetches)
        : out_(out), history_(history), names_(names), max_fetches_(max_fetches) {}
    ~ws_fetches();
    ws_fetches(const ws_fetches&) = delete;
    ws_fetches& operator=(const ws_fetches&) = delete;

    // True when `type` belongs to the fetch exchange (it has been answered);
    // `id_json` is the message's `id` as JSON text, empty when absent.
    bool handle(std::string_view type, const nlohmann::json& m, const std::string& id_json);

    std::size_t running() const { return fetches_.size(); }

private:
    class row_sink;
    struct running_fetch {
        std::unique_ptr<row_sink> sink;
        std::shared_ptr<streams::history_fetch> fetch;
        bool ended = false;
        running_fetch() = default;
        running_fetch(const running_fetch&) = delete;
        running_fetch& operator=(const running_fetch&) = delete;
        ~running_fetch();
    };

    void start(const nlohmann::json& m, const std::string& id);
    void accepted(const std::string& id);
    void stop(const std::string& id);
    void error(std::string_view text, const std::string& id);

    http::ws_output& out_;
    streams::history_service* history_;
    const mode_names* names_;
    std::uint32_t max_fetches_;
    std::map<std::string, running_fetch, std::less<>> fetches_; // by id JSON
};

} // namespace rpd::endpoints
