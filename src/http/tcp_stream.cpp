#include "redis_push/http/tcp_stream.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <span>

namespace rpd::http {

namespace {
class tcp_stream_impl final : public byte_stream::impl {
public:
    explicit tcp_stream_impl(boost::asio::ip::tcp::socket s) : socket_(std::move(s)) {}

    byte_stream::executor_type executor() override { return socket_.get_executor(); }
    void read_some(boost::asio::mutable_buffer b, byte_stream::io_handler h) override {
        socket_.async_read_some(b, std::move(h));
    }
    void write_some(boost::asio::const_buffer b, byte_stream::io_handler h) override {
        socket_.async_write_some(b, std::move(h));
    }
    void write_some(const byte_stream::gather& g, byte_stream::io_handler h) override {
        // Asio writes a sequence with one sendmsg().
        socket_.async_write_some(std::span(g.buffers.data(), g.count), std::move(h));
    }
    void read_some(boost::asio::mutable_buffer b,
                   std::shared_ptr<byte_stream::receiver> r) override {
        socket_.async_read_some(b, [r = std::move(r)](const boost::system::error_code& ec,
                                                      std::size_t n) { r->on_read(ec, n); });
    }
    void write_some(boost::asio::const_buffer b,
                    std::shared_ptr<byte_stream::receiver> r) override {
        socket_.async_write_some(b, [r = std::move(r)](const boost::system::error_code& ec,
                                                       std::size_t n) { r->on_written(ec, n); });
    }
    // close() alone ends a TCP connection gracefully (FIN); a shutdown()
    // first would only add a system call per connection.
    void close() override {
        boost::system::error_code ec;
        socket_.close(ec);
    }
    void shutdown_send() override {
        boost::system::error_code ec;
        socket_.shutdown(boost::asio::socket_base::shutdown_send, ec);
    }
    // A peek of one byte: 0 is the FIN, an error other than "nothing yet"
    // a reset; a byte (a pipelined request) means the peer is still there.
    bool peer_closed() override {
        char c = 0;
        const auto n = ::recv(socket_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    }
    void reset_on_close() override {
        boost::system::error_code ec;
        socket_.set_option(boost::asio::socket_base::linger(true, 0), ec);
    }

private:
    boost::asio::ip::tcp::socket socket_;
};
} // namespace

byte_stream make_tcp_stream(boost::asio::ip::tcp::socket socket) {
    return byte_stream(std::make_unique<tcp_stream_impl>(std::move(socket)));
}

} // namespace rpd::http
