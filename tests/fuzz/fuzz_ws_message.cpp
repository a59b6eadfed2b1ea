// libFuzzer target: the WebSocket protocol of the stream mode (MODES.md 4),
// endpoints::ws_client::on_message, with arbitrary client frames.
//
// Input: byte 0 = flags
//   bit 0: the stream mode is switched off (streams = nullptr)
//   bit 1: a signing secret (names `<name>.<sig>`, publish tokens)
//   bit 2: stream.allow_publish
//   bit 3: ws.max_subscriptions = 2 (else 100)
//   bit 4: run the io_context between messages (else only at the end)
// the rest: the client's messages, one per 0x1E-separated piece.
//
// No Redis: the stream_service runs over a command_connection and a
// subscriber_pool that were never started, so every command is answered
// "unavailable" (posted). The io_context is polled a bounded number of steps.
//
// Checked besides crashes, UB and leaks:
//  - every frame the client gets is one JSON object with a string "type"
//    (or "event");
//  - a message that is not a JSON object gets exactly one frame, during the
//    call: {"type":"error","error":"Invalid JSON"} without "id";
//  - a JSON object gets at most one frame during the call; exactly one when
//    its "type" is not one of the protocol's; every frame of the call
//    carries the request's "id" (equal as JSON) exactly when the request
//    has one; a "stream" in it is the request's "stream";
//  - nothing is sent from or after the client's destruction, and then the
//    stream service holds no subscriber and no channel.
#include "redis_push/config/config.hpp"
#include "redis_push/endpoints/mode_name.hpp"
#include "redis_push/endpoints/ws_client.hpp"
#include "redis_push/http/websocket.hpp"
#include "redis_push/redis/command_connection.hpp"
#include "redis_push/redis/subscriber_pool.hpp"
#include "redis_push/streams/stream_service.hpp"
#include "redis_push/tasks/task_signer.hpp"
#include "redis_push/util/json_depth.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using json = nlohmann::json;
namespace endpoints = rpd::endpoints;

constexpr char separator = '\x1e';
constexpr std::size_t max_messages = 64;
constexpr int max_poll_steps = 10000;

std::string_view current_input;

[[noreturn]] void fail(const char* what, std::string_view detail) {
    std::fprintf(stderr, "fuzz_ws_message: %s\n  detail: %.*s\n", what,
                 static_cast<int>(std::min<std::size_t>(detail.size(), 2000)), detail.data());
    std::abort();
}

// As the daemon reads a message: a raw NUL is never JSON (nlohmann's lexer
// would stop there and accept what came before), and nothing nested deeper
// than util::max_json_depth is parsed at all.
json parse_strict(std::string_view s) {
    if (s.find('\0') != std::string_view::npos ||
        !rpd::util::nesting_within(s, rpd::util::max_json_depth))
        return json(json::value_t::discarded);
    return json::parse(s.begin(), s.end(), nullptr, false);
}

struct recording_output final : rpd::http::ws_output {
    std::vector<std::string> frames;
    bool closed = false; // the client is being (or was) destroyed

    void send_text(std::string_view text) override {
        if (closed)
            fail("send_text from or after the client's destruction", text);
        const auto f = parse_strict(text);
        if (f.is_discarded() || !f.is_object())
            fail("a frame that is not one JSON object", text);
        const auto type = f.find("type");
        const auto event = f.find("event");
        const bool typed =
            (type != f.end() && type->is_string()) || (event != f.end() && event->is_string());
        if (!typed)
            fail("a frame without a string \"type\" (or \"event\")", text);
        frames.emplace_back(text);
    }
};

struct harness {
    boost::asio::io_context ioc;
    rpd::redis::command_connection commands{ioc, rpd::redis::endpoint{}};
    rpd::redis::subscriber_pool subscribers{ioc, rpd::redis::endpoint{}, 2, "RA_probe"};
    rpd::streams::stream_service streams{ioc, commands, subscribers, {}};
    rpd::config::stream_settings stream;
    std::unique_ptr<rpd::tasks::task_signer> name_signer;
    std::unique_ptr<rpd::tasks::task_signer> publish_signer;
    std::unique_ptr<endpoints::mode_names> names;
    endpoints::ws_client_settings settings;
    recording_output out;
    std::unique_ptr<endpoints::ws_client> client;

    void poll() {
        ioc.restart();
        for (int i = 0; i < max_poll_steps && ioc.poll_one() > 0; ++i) {
        }
    }
};

void check_call(std::string_view message, const std::vector<std::string>& frames) {
    const auto m = parse_strict(message);
    if (m.is_discarded() || !m.is_object()) {
        if (frames.size() != 1)
            fail("not a JSON object, but not exactly one frame", message);
        const auto f = json::parse(frames[0]);
        if (f.value("type", "") != "error" || f.value("error", "") != "Invalid JSON" ||
            f.contains("id"))
            fail("not a JSON object, but not an Invalid JSON error frame without id", frames[0]);
        return;
    }
    if (frames.size() > 1)
        fail("more than one frame for one request", message);
    // redis-ws-alerts' identify (MODES.md 2) has its own shape; the harness
    // has no mailbox mode, so it is always refused in that shape.
    if (m.value("event", json()) == "identify") {
        if (frames.size() != 1)
            fail("an identify without exactly one answer", message);
        const auto f = json::parse(frames[0]);
        if (f.value("event", "") != "error" || !f.contains("error") || f.contains("type"))
            fail("an identify answered with something else than an event error frame", frames[0]);
        return;
    }
    const auto type = m.find("type");
    const bool known =
        type != m.end() && type->is_string() &&
        (*type == "subscribe" || *type == "unsubscribe" || *type == "publish" || *type == "ack" ||
         *type == "fetch" || *type == "accepted" || *type == "end");
    if (!known && frames.size() != 1)
        fail("an unknown type without an error frame", message);
    const auto id = m.find("id");
    for (const auto& text : frames) {
        const auto f = json::parse(text);
        if (!known && (f.value("type", "") != "error" || f.value("error", "") != "Unknown type"))
            fail("an unknown type answered with something else than \"Unknown type\"", text);
        if (f.contains("id") != (id != m.end()))
            fail("the frame's id presence differs from the request's", text);
        if (id != m.end() && f["id"] != *id)
            fail("the frame's id is not the request's", text);
        if (f.contains("stream") && f["stream"] != m.value("stream", json()))
            fail("the frame's stream is not the request's", text);
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(spdlog::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1)
        return 0;
    current_input = std::string_view(reinterpret_cast<const char*>(data), size);
    const std::uint8_t flags = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

    auto h = std::make_unique<harness>();
    h->stream.allow_publish = (flags & 4) != 0;
    if (flags & 2) {
        h->name_signer = std::make_unique<rpd::tasks::task_signer>("fuzz-secret", 8);
        h->publish_signer = std::make_unique<rpd::tasks::task_signer>("fuzz-secret", 32);
    }
    h->names = std::make_unique<endpoints::mode_names>(h->stream.name_pattern, h->name_signer.get(),
                                                       "stream:");
    h->settings.streams = (flags & 1) ? nullptr : &h->streams;
    h->settings.stream = &h->stream;
    h->settings.stream_names = h->names.get();
    h->settings.publish_signer = h->publish_signer.get();
    h->settings.max_subscriptions = (flags & 8) ? 2 : 100;
    const bool poll_between = (flags & 16) != 0;
    h->client = std::make_unique<endpoints::ws_client>(h->out, h->settings);

    for (std::size_t n = 0; n < max_messages; ++n) {
        const auto cut = rest.find(separator);
        const std::string message(rest.substr(0, cut)); // exact size, for ASan
        const auto before = h->out.frames.size();
        h->client->on_message(message);
        const std::vector<std::string> frames(
            h->out.frames.begin() + static_cast<std::ptrdiff_t>(before), h->out.frames.end());
        check_call(message, frames);
        if (poll_between)
            h->poll();
        if (cut == std::string_view::npos)
            break;
        rest.remove_prefix(cut + 1);
    }
    h->poll();

    h->out.closed = true;
    h->client.reset();
    h->poll();
    if (h->streams.counters().subscribers != 0)
        fail("subscribers left after the client's destruction", current_input);
    if (h->streams.channel_count() != 0)
        fail("stream channels left after the client's destruction", current_input);
    h.reset();
    return 0;
}
