// libFuzzer target: http::session<beast::test::stream>, fed the client's
// byte stream. Built like tests/unit/session_test.cpp: the Redis
// connections are never started, so Redis is "down" (polls and watches
// answer 503 at once) and no network is used.
//
// Input: byte 0 holds flags, the rest is the client's byte stream, cut into
// separate writes at every 0x1E byte (ASCII record separator, never valid
// in an HTTP head, so nothing is lost). After each write the io_context
// runs until idle.
//   bit 0    /healthz says Redis is up
//   bit 1    http.always_200
//   bit 2    http.cors_origins = ["https://app.example"]
//   bit 3    http.max_header_bytes = 1024 (else the default 8192)
//   bit 4    http.static_dir = a folder with index.html and app.js
//   bits 5-6 how it ends: client closes / server shutdown / abort() /
//            tasks.shutdown() then client closes
//   bit 7    http.cors_origins = ["*"] (overrides bit 2)
//
// Checked besides crashes, sanitizer reports and leaks:
//  - after the end (and an abort() if the session still lives), the
//    session is gone, its connection count and list entry with it;
//  - what the session wrote is a sequence of well-formed responses, each
//    with only the header fields the daemon emits and no CR/LF/NUL inside
//    a field (no response splitting through echoed Origin or
//    Access-Control-Request-Headers values);
//  - no file outside http.static_dir and no hidden file is ever served.

#include "redis_push/http/session.hpp"

#include "../unit/test_byte_stream.hpp"
#include "redis_push/app/endpoints.hpp"

#include "redis_push/mailboxes/mailbox_service.hpp"
#include "redis_push/queues/queue_service.hpp"
#include "redis_push/redis/command_connection.hpp"
#include "redis_push/redis/subscriber_pool.hpp"
#include "redis_push/streams/history_service.hpp"
#include "redis_push/streams/stream_service.hpp"
#include "redis_push/tasks/task_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

namespace {

namespace beast = boost::beast;
namespace http = rpd::http;
namespace fs = std::filesystem;
using test_stream = beast::test::stream;
using test_session = http::session;

constexpr char separator = '\x1e';
constexpr std::size_t max_writes = 128;
constexpr std::string_view secret_marker = "OUTSIDE-STATIC-ROOT";
constexpr std::string_view hidden_marker = "HIDDEN-STATIC-FILE";

std::string_view current_input;

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
    std::fprintf(stderr, "fuzz_session: invariant violated: %s\n", what);
    if (!detail.empty())
        std::fprintf(stderr, "  detail: %.*s\n", static_cast<int>(detail.size()), detail.data());
    std::fprintf(stderr, "  input (%zu bytes): %.*s\n", current_input.size(),
                 static_cast<int>(current_input.size()), current_input.data());
    std::abort();
}

// A static root for bit 4: <tmp>/www/{index.html,app.js,.hidden} and a
// file next to www that must stay unreachable.
struct static_root {
    fs::path base;
    std::string www;

    static_root() {
        std::string tmpl = (fs::temp_directory_path() / "rpd-fuzz-session-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            std::perror("mkdtemp");
            std::abort();
        }
        base = tmpl;
        fs::create_directory(base / "www");
        fs::create_directory(base / "www" / "sub");
        std::ofstream(base / "www" / "index.html") << "<!doctype html><title>demo</title>\n";
        std::ofstream(base / "www" / "app.js") << "console.log('demo');\n";
        std::ofstream(base / "www" / "sub" / "data.json") << "{\"ok\":true}\n";
        std::ofstream(base / "www" / ".hidden") << hidden_marker << "\n";
        std::ofstream(base / "secret.txt") << secret_marker << "\n";
        www = (base / "www").string();
    }
    ~static_root() {
        std::error_code ec;
        fs::remove_all(base, ec);
    }
};

static_root* statics_root = nullptr;

bool known_field(std::string_view name) {
    static constexpr std::string_view fields[] = {
        "Content-Type",
        "Cache-Control",
        "X-Accel-Buffering",
        "Allow",
        "Access-Control-Allow-Origin",
        "Vary",
        "Access-Control-Allow-Methods",
        "Access-Control-Max-Age",
        "Access-Control-Allow-Headers",
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
    };
    for (auto f : fields)
        if (name == f)
            return true;
    return false;
}

// The session's whole output: responses back to back. A HEAD response
// has a Content-Length but no body; no body the daemon sends starts with
// "HTTP/1.1 ", which tells the two apart.
void check_output(std::string_view out, std::string& bodies) {
    constexpr std::string_view status_prefix = "HTTP/1.1 ";
    while (!out.empty()) {
        if (!out.starts_with(status_prefix))
            fail("output does not start with a status line", out.substr(0, 200));
        const auto head_end = out.find("\r\n\r\n");
        if (head_end == std::string_view::npos)
            fail("response head without its blank line", out.substr(0, 400));
        const std::string_view head = out.substr(0, head_end + 2);
        out.remove_prefix(head_end + 4);

        std::size_t content_length = 0;
        bool chunked = false;
        std::size_t pos = head.find("\r\n") + 2; // past the status line
        const std::string_view status_line = head.substr(0, pos - 2);
        if (status_line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
            fail("CR, LF or NUL in the status line", status_line);
        while (pos < head.size()) {
            const auto eol = head.find("\r\n", pos);
            const std::string_view line = head.substr(pos, eol - pos);
            pos = eol + 2;
            if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
                fail("CR, LF or NUL inside a header field", line);
            const auto colon = line.find(": ");
            if (colon == std::string_view::npos)
                fail("header line without ': '", line);
            const std::string_view name = line.substr(0, colon);
            const std::string_view value = line.substr(colon + 2);
            if (!known_field(name))
                fail("unexpected header field (response splitting?)", line);
            if (name == "Content-Length") {
                const auto [p, ec] =
                    std::from_chars(value.data(), value.data() + value.size(), content_length);
                if (ec != std::errc() || p != value.data() + value.size())
                    fail("bad Content-Length", line);
            }
            if (name == "Transfer-Encoding")
                chunked = true;
        }
        if (chunked)
            fail("chunked response although Redis is down", head);
        if (out.empty() || out.starts_with(status_prefix))
            continue; // no body: HEAD, 204, or an empty one
        if (out.size() < content_length)
            fail("body shorter than its Content-Length", out.substr(0, 200));
        bodies.append(out.substr(0, content_length));
        out.remove_prefix(content_length);
    }
}

struct harness {
    boost::asio::io_context ioc;
    rpd::config::settings settings;
    rpd::redis::command_connection commands{ioc, rpd::redis::endpoint{}};
    rpd::redis::subscriber_pool subscribers{ioc, rpd::redis::endpoint{}, 2, "RA_probe"};
    rpd::tasks::task_service tasks{ioc, commands, subscribers, rpd::tasks::task_settings{}};
    rpd::streams::stream_service streams{ioc, commands, subscribers, {}};
    rpd::queues::queue_service queues{ioc, commands, subscribers, {}};
    rpd::mailboxes::mailbox_service mailboxes{ioc, commands, subscribers, {}, {}};
    rpd::streams::history_service history{ioc, commands, {}};
    bool redis_up = false;
    std::unique_ptr<http::context> ctx;
    std::unique_ptr<rpd::app::endpoint_set> endpoints;
    test_stream client{ioc};
    std::weak_ptr<test_session> session;
    std::string output;

    void settle() {
        ioc.restart();
        for (int i = 0; i < 10000 && ioc.poll() > 0; ++i) {
        }
        output.append(client.str());
        client.clear();
    }

    void send(std::string_view bytes) {
        boost::system::error_code ec; // the session may have closed already
        boost::asio::write(client, boost::asio::buffer(bytes.data(), bytes.size()), ec);
        settle();
    }
};

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(spdlog::level::off);
    static static_root root;
    statics_root = &root;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1)
        return 0;
    current_input = std::string_view(reinterpret_cast<const char*>(data), size);
    const std::uint8_t flags = data[0];
    std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

    harness h;
    h.redis_up = (flags & 1) != 0;
    h.settings.http.always_200 = (flags & 2) != 0;
    if (flags & 0x80)
        h.settings.http.cors_origins = {"*"};
    else if (flags & 4)
        h.settings.http.cors_origins = {"https://app.example"};
    if (flags & 8)
        h.settings.http.max_header_bytes = 1024;
    if (flags & 16)
        h.settings.http.static_dir = statics_root->www;
    const int ending = (flags >> 5) & 3;

    h.ctx = std::make_unique<http::context>(h.settings);
    h.endpoints = std::make_unique<rpd::app::endpoint_set>(
        h.settings, rpd::app::mode_services{h.tasks, h.streams, h.queues, h.mailboxes, h.history},
        [&h] { return h.redis_up; },
        [] { return std::string("# TYPE redis_push_connections_open gauge\n"); }, *h.ctx);
    {
        test_stream server(h.ioc);
        h.client.connect(server);
        auto s = std::make_shared<test_session>(rpd::testing::make_test_stream(std::move(server)),
                                                *h.ctx);
        h.session = s;
        s->run();
    }
    h.settle();

    for (std::size_t writes = 0; writes < max_writes; ++writes) {
        const auto cut = stream.find(separator);
        const std::string chunk(stream.substr(0, cut)); // exact size, for ASan
        if (!chunk.empty())
            h.send(chunk);
        if (cut == std::string_view::npos)
            break;
        stream.remove_prefix(cut + 1);
    }

    switch (ending) {
    case 0:
        h.client.close();
        break;
    case 1:
        h.ctx->shutting_down = true;
        if (!h.ctx->sessions.empty())
            h.ctx->sessions.front().shutdown();
        break;
    case 2:
        if (!h.ctx->sessions.empty())
            h.ctx->sessions.front().abort();
        break;
    default:
        h.tasks.shutdown();
        h.client.close();
        break;
    }
    h.settle();
    if (ending != 1 && !h.session.expired())
        fail("session still alive after the client closed / abort()");
    // A shutdown waits for the answer in progress; with Redis down every
    // answer is immediate, so the session must be gone as well, unless it
    // was reading (then shutdown() closes it at once) - i.e. always.
    if (!h.session.expired())
        fail("session still alive after shutdown()");
    if (h.ctx->metrics.connections_open != 0 || !h.ctx->sessions.empty())
        fail("connection count or session list not back to zero");

    // Only bodies: header fields may echo the request (Origin, ...), and
    // the fuzzer learns the markers from the comparisons below.
    std::string bodies;
    check_output(h.output, bodies);
    if (bodies.find(secret_marker) != std::string::npos)
        fail("served a file outside http.static_dir");
    if (bodies.find(hidden_marker) != std::string::npos)
        fail("served a hidden file from http.static_dir");
    return 0;
}
