#include "ws_client.hpp"

#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace rpd::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// Runs the io_context until done() holds or the deadline passed.
bool run_until(asio::io_context& ioc, const std::function<bool()>& done,
               clock::time_point deadline) {
    while (!done()) {
        const auto now = clock::now();
        if (now >= deadline)
            return false;
        if (ioc.stopped())
            ioc.restart();
        ioc.run_one_for(deadline - now);
    }
    return true;
}

bool connect_with_deadline(asio::io_context& ioc, tcp::socket& sock, std::uint16_t port,
                           int so_rcvbuf, clock::time_point deadline, std::string& error) {
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    beast::error_code ec;
    sock.open(tcp::v4(), ec);
    if (ec) {
        error = ec.message();
        return false;
    }
    if (so_rcvbuf > 0)
        sock.set_option(asio::socket_base::receive_buffer_size(so_rcvbuf), ec);
    bool done = false;
    sock.async_connect(ep, [&](beast::error_code e) {
        done = true;
        ec = e;
    });
    if (!run_until(
            ioc, [&] { return done; }, deadline)) {
        sock.close(ec);
        run_until(
            ioc, [&] { return done; }, clock::now() + 1000ms);
        error = "connect timed out";
        return false;
    }
    if (ec) {
        error = ec.message();
        return false;
    }
    return true;
}

void set_decorator(websocket::stream<tcp::socket>& ws, const header_list& headers) {
    ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
        for (auto& [k, v] : headers)
            req.set(k, v);
    }));
}

std::string host_of(std::uint16_t port) {
    return "127.0.0.1:" + std::to_string(port);
}

} // namespace

std::optional<std::string> ws_handshake_result::header(std::string_view name) const {
    for (auto& [k, v] : headers)
        if (iequals(k, name))
            return v;
    return std::nullopt;
}

struct ws_client::impl {
    asio::io_context ioc;
    websocket::stream<tcp::socket> ws{ioc};
    beast::flat_buffer rbuf;
    bool reading = false;
    bool read_done = false;
    beast::error_code read_ec;

    ~impl() {
        beast::error_code ec;
        ws.next_layer().close(ec);
        // Let pending operations finish (aborted) before the stream goes.
        ioc.restart();
        ioc.run_for(std::chrono::milliseconds(500));
    }
};

ws_client::ws_client(std::uint16_t port, ws_options opts) : p_(std::make_unique<impl>()) {
    const auto deadline = clock::now() + opts.timeout;
    std::string err;
    if (!connect_with_deadline(p_->ioc, p_->ws.next_layer(), port, opts.so_rcvbuf, deadline, err))
        throw std::runtime_error("ws_client: connect to port " + std::to_string(port) +
                                 " failed: " + err);
    set_decorator(p_->ws, opts.headers);
    p_->ws.read_message_max(opts.read_message_max);
    p_->ws.auto_fragment(false);
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(5); // also bounds the closing handshake
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    p_->ws.set_option(t);
    p_->ws.control_callback([pings = pings_](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::ping)
            ++*pings;
    });
    websocket::response_type res;
    bool done = false;
    beast::error_code ec;
    p_->ws.async_handshake(res, host_of(port), opts.path, [&](beast::error_code e) {
        done = true;
        ec = e;
    });
    if (!run_until(
            p_->ioc, [&] { return done; }, deadline)) {
        p_->ws.next_layer().close(ec);
        run_until(
            p_->ioc, [&] { return done; }, clock::now() + 1000ms);
        throw std::runtime_error("ws_client: upgrade of " + opts.path + " timed out");
    }
    if (ec)
        throw std::runtime_error("ws_client: upgrade of " + opts.path +
                                 " refused: " + ec.message() + " (status " +
                                 std::to_string(res.result_int()) + ", body `" + res.body() + "`)");
}

ws_client::~ws_client() = default;

ws_handshake_result ws_client::try_upgrade(std::uint16_t port, ws_options opts) {
    ws_handshake_result out;
    asio::io_context ioc;
    websocket::stream<tcp::socket> ws{ioc};
    const auto deadline = clock::now() + opts.timeout;
    if (!connect_with_deadline(ioc, ws.next_layer(), port, opts.so_rcvbuf, deadline, out.error))
        return out;
    set_decorator(ws, opts.headers);
    websocket::response_type res;
    bool done = false;
    beast::error_code ec;
    ws.async_handshake(res, host_of(port), opts.path, [&](beast::error_code e) {
        done = true;
        ec = e;
    });
    if (!run_until(
            ioc, [&] { return done; }, deadline)) {
        ws.next_layer().close(ec);
        run_until(
            ioc, [&] { return done; }, clock::now() + 1000ms);
        out.error = "upgrade timed out";
        return out;
    }
    out.upgraded = !ec;
    if (ec)
        out.error = ec.message();
    out.status = static_cast<int>(res.result_int());
    for (auto& f : res)
        out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = res.body();
    beast::error_code ignored;
    ws.next_layer().close(ignored);
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(200));
    return out;
}

bool ws_client::send(std::string_view text, std::chrono::milliseconds timeout) {
    if (closed_)
        return false;
    const auto deadline = clock::now() + timeout;
    bool done = false;
    beast::error_code ec;
    p_->ws.text(true);
    p_->ws.async_write(asio::buffer(text.data(), text.size()),
                       [&](beast::error_code e, std::size_t) {
                           done = true;
                           ec = e;
                       });
    if (!run_until(
            p_->ioc, [&] { return done; }, deadline)) {
        // The buffer must outlive the write: abort and wait for it.
        abort();
        error_ = "write timed out";
        return false;
    }
    if (ec) {
        if (error_.empty())
            error_ = "write: " + ec.message();
        return false;
    }
    return true;
}

std::optional<std::string> ws_client::read(std::chrono::milliseconds timeout) {
    if (closed_)
        return std::nullopt;
    impl& p = *p_;
    if (!p.reading) {
        p.reading = true;
        p.read_done = false;
        p.rbuf.clear();
        p.ws.async_read(p.rbuf, [&p](beast::error_code e, std::size_t) {
            p.read_done = true;
            p.read_ec = e;
        });
    }
    if (!run_until(
            p.ioc, [&] { return p.read_done; }, clock::now() + timeout))
        return std::nullopt; // the read stays pending; the next call continues it
    p.reading = false;
    if (p.read_ec) {
        closed_ = true;
        if (p.read_ec == websocket::error::closed) {
            close_code_ = p.ws.reason().code;
            close_reason_ = std::string(p.ws.reason().reason.c_str());
        } else {
            error_ = p.read_ec.message();
        }
        return std::nullopt;
    }
    std::string s = beast::buffers_to_string(p.rbuf.data());
    try {
        log_.push_back(nlohmann::json::parse(s));
    } catch (const std::exception&) {
        log_.push_back(nlohmann::json{{"<not json>", s}});
    }
    return s;
}

std::optional<nlohmann::json> ws_client::read_json(std::chrono::milliseconds timeout) {
    if (!read(timeout))
        return std::nullopt;
    return log_.back();
}

std::optional<nlohmann::json>
ws_client::read_until(const std::function<bool(const nlohmann::json&)>& pred,
                      std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    while (true) {
        const auto now = clock::now();
        if (now >= deadline)
            return std::nullopt;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        if (left.count() == 0)
            left = 1ms;
        auto j = read_json(left);
        if (!j)
            return std::nullopt;
        if (pred(*j))
            return j;
    }
}

bool ws_client::wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    while (!closed_) {
        const auto now = clock::now();
        if (now >= deadline)
            return false;
        read(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) + 1ms);
    }
    return true;
}

bool ws_client::wait_pings(int n, std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    while (*pings_ < n) {
        if (closed_ || clock::now() >= deadline)
            return false;
        read(50ms);
    }
    return true;
}

void ws_client::close(std::chrono::milliseconds timeout) {
    if (closed_)
        return;
    impl& p = *p_;
    bool done = false;
    p.ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
    if (!run_until(
            p.ioc, [&] { return done; }, clock::now() + timeout)) {
        abort();
        return;
    }
    closed_ = true;
    // A pending read completes now (closed).
    run_until(
        p.ioc, [&] { return !p.reading || p.read_done; }, clock::now() + 500ms);
}

void ws_client::abort() {
    impl& p = *p_;
    beast::error_code ec;
    p.ws.next_layer().close(ec);
    p.ioc.restart();
    p.ioc.run_for(std::chrono::milliseconds(200));
    closed_ = true;
}

int ws_client::native_fd() const {
    return const_cast<impl&>(*p_).ws.next_layer().native_handle();
}

std::string ws_client::describe() const {
    std::string out = "ws: ";
    out += closed_ ? "closed (code " + std::to_string(close_code_) + " `" + close_reason_ + "`" +
                         (error_.empty() ? "" : ", error " + error_) + ")"
                   : "open";
    out += "; " + std::to_string(log_.size()) + " messages read";
    const std::size_t first = log_.size() > 30 ? log_.size() - 30 : 0;
    for (std::size_t i = first; i < log_.size(); ++i) {
        std::string s = log_[i].dump();
        if (s.size() > 400)
            s = s.substr(0, 400) + "...";
        out += "\n  [" + std::to_string(i) + "] " + s;
    }
    return out;
}

} // namespace rpd::test
