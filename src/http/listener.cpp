#include "redis_push/http/listener.hpp"

#include "redis_push/http/session.hpp"
#include "redis_push/http/tcp_stream.hpp"

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace rpd::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr std::string_view over_capacity_response =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Cache-Control: no-store\r\nContent-Length: 57\r\nConnection: close\r\n\r\n"
    R"({"status":"error","error_message":"Too many connections"})";
constexpr auto pause_after_fd_exhaustion = std::chrono::milliseconds(100);
} // namespace

listener::listener(asio::io_context& ioc, const tcp::endpoint& ep, context& ctx)
    : ioc_(ioc), acceptor_(ioc), pause_timer_(ioc), ctx_(ctx) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);
}

void listener::stop() {
    stopped_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    pause_timer_.cancel();
}

void listener::do_accept() {
    if (stopped_)
        return;
    acceptor_.async_accept(
        ioc_, [self = shared_from_this()](const boost::system::error_code& ec, tcp::socket s) {
            self->on_accept(ec, std::move(s));
        });
}

void listener::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
    if (stopped_ || ec == asio::error::operation_aborted)
        return;
    if (ec) {
        if (ec == asio::error::no_descriptors || ec.value() == ENFILE ||
            ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
            spdlog::warn("accept: {}; pausing {} ms", ec.message(),
                         pause_after_fd_exhaustion.count());
            pause_timer_.expires_after(pause_after_fd_exhaustion);
            pause_timer_.async_wait(
                [self = shared_from_this()](const boost::system::error_code& e) {
                    if (!e)
                        self->do_accept();
                });
            return;
        }
        spdlog::debug("accept: {}", ec.message());
        return do_accept();
    }
    ++ctx_.metrics.connections_accepted;
    if (ctx_.metrics.connections_open >= ctx_.http.max_connections) {
        reject(socket);
    } else {
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<session>(make_tcp_stream(std::move(socket)), ctx_)->run();
    }
    do_accept();
}

void listener::reject(tcp::socket& socket) {
    ++ctx_.metrics.connections_rejected;
    // Best effort and never blocking: the kernel's socket buffer takes it.
    boost::system::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(over_capacity_response), ignored);
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
}

} // namespace rpd::http
