#pragma once

#include "redis_push/http/context.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace rpd::http {

// Accepts connections and hands each to a new session. Over the connection
// cap a client is answered 503 and closed at once, so it never waits in
// the kernel's queue. When the process runs out of file descriptors it
// pauses accepting briefly instead of spinning on EMFILE.
class listener : public std::enable_shared_from_this<listener> {
public:
    // Throws boost::system::system_error when the address cannot be bound.
    listener(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& ep, context& ctx);

    void run() { do_accept(); }
    void stop();
    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

private:
    void do_accept();
    void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
    void reject(boost::asio::ip::tcp::socket& socket);

    boost::asio::io_context& ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer pause_timer_;
    context& ctx_;
    bool stopped_ = false;
};

} // namespace rpd::http
