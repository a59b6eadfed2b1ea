#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <utility>

namespace rpd::http {

// The bytes of one client connection, whatever carries them: a TCP socket
// in the daemon, beast::test::stream in the unit and fuzz tests. It models
// Asio's AsyncReadStream and AsyncWriteStream for the one-buffer reads and
// writes the session (and Beast's header parser) issue, so the session is a
// plain class and the tests still drive the very code the daemon runs.
class byte_stream {
public:
    using executor_type = boost::asio::any_io_executor;
    using io_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;

    // The owner's own reads and writes report here rather than through an
    // erased handler: a held connection's pending read then costs what a
    // plain socket read costs (an erased handler's operation is allocated
    // through it, bigger, with a heap-allocated executor besides).
    class receiver {
    public:
        virtual void on_read(const boost::system::error_code& ec, std::size_t n) = 0;
        virtual void on_written(const boost::system::error_code& ec, std::size_t n) = 0;

    protected:
        ~receiver() = default;
    };

    // Up to 8 buffers written in one call (a WebSocket frame is a header
    // and a payload: one send() for both, not two).
    struct gather {
        std::array<boost::asio::const_buffer, 8> buffers{};
        std::size_t count = 0;
    };

    class impl {
    public:
        virtual ~impl() = default;
        virtual executor_type executor() = 0;
        virtual void read_some(boost::asio::mutable_buffer b, io_handler h) = 0;
        virtual void write_some(boost::asio::const_buffer b, io_handler h) = 0;
        virtual void read_some(boost::asio::mutable_buffer b, std::shared_ptr<receiver> r) = 0;
        virtual void write_some(boost::asio::const_buffer b, std::shared_ptr<receiver> r) = 0;
        // A graceful close (FIN); never throws.
        virtual void close() = 0;
        // Makes the close a reset, so the kernel frees what a client that
        // does not read left queued at once (no-op where there is no socket).
        virtual void reset_on_close() = 0;
        // Half-closes (FIN after what is queued); reads go on.
        virtual void shutdown_send() {}
        // Whether the peer's FIN (or a reset) is already here, unread;
        // never blocks, consumes nothing. Where it cannot tell: false.
        virtual bool peer_closed() { return false; }
        // Where the carrier can gather, one write of several buffers; else
        // the first of them.
        virtual void write_some(const gather& g, io_handler h) {
            write_some(g.count > 0 ? g.buffers[0] : boost::asio::const_buffer(), std::move(h));
        }
    };

    explicit byte_stream(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

    executor_type get_executor() const { return impl_->executor(); }

    template <class MutableBuffers, class Handler>
    void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
        impl_->read_some(first(buffers), io_handler(std::forward<Handler>(handler)));
    }
    template <class ConstBuffers, class Handler>
    void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
        impl_->write_some(non_empty(buffers), io_handler(std::forward<Handler>(handler)));
    }

    void read_some_into(boost::asio::mutable_buffer b, std::shared_ptr<receiver> r) {
        impl_->read_some(b, std::move(r));
    }
    void write_some_from(boost::asio::const_buffer b, std::shared_ptr<receiver> r) {
        impl_->write_some(b, std::move(r));
    }

    void close() { impl_->close(); }
    void reset_on_close() { impl_->reset_on_close(); }
    void shutdown_send() { impl_->shutdown_send(); }
    bool peer_closed() { return impl_->peer_closed(); }

private:
    // A read or write of some bytes may stop after the first buffer that
    // has room; an empty one first would make a composed write spin.
    template <class Buffer, class Buffers> static Buffer first_nonempty(const Buffers& b) {
        const auto end = boost::asio::buffer_sequence_end(b);
        for (auto it = boost::asio::buffer_sequence_begin(b); it != end; ++it)
            if (Buffer(*it).size() > 0)
                return Buffer(*it);
        return Buffer();
    }
    template <class Buffers> static boost::asio::mutable_buffer first(const Buffers& b) {
        return first_nonempty<boost::asio::mutable_buffer>(b);
    }
    // The non-empty buffers of a sequence, at most 8: a composed write
    // goes on with the rest.
    template <class Buffers> static gather non_empty(const Buffers& b) {
        gather g;
        const auto end = boost::asio::buffer_sequence_end(b);
        for (auto it = boost::asio::buffer_sequence_begin(b); it != end && g.count < 8; ++it) {
            const boost::asio::const_buffer one(*it);
            if (one.size() > 0)
                g.buffers[g.count++] = one;
        }
        return g;
    }

    std::unique_ptr<impl> impl_;
};

// Beast's websocket::stream over a byte_stream (a connection an endpoint
// took over) closes it through these, found by argument-dependent lookup.
inline void beast_close_socket(byte_stream& s) {
    s.close();
}

inline void teardown(boost::beast::role_type, byte_stream& s, boost::system::error_code& ec) {
    s.close();
    ec = {};
}

namespace detail {
// A WebSocket's teardown after the close frames, as Beast's own for TCP:
// half-close, then read (and drop) until the client closes too, then close.
// Closing at once with the client's bytes unread would be a reset, which
// may lose our close frame on its way (a 1009 after a message cut short).
// The stream's timer bounds the wait (it closes the socket).
template <class Handler> struct teardown_drain {
    struct state {
        byte_stream& s;
        Handler h;
        char buf[256];
    };
    std::shared_ptr<state> st;

    void operator()(const boost::system::error_code& ec, std::size_t) {
        if (!ec)
            return st->s.async_read_some(boost::asio::buffer(st->buf), std::move(*this));
        st->s.close();
        auto& s = st->s;
        boost::asio::post(s.get_executor(), [st = std::move(st)]() mutable {
            auto h = std::move(st->h);
            st.reset();
            h(boost::system::error_code{});
        });
    }
};
} // namespace detail

template <class Handler>
void async_teardown(boost::beast::role_type, byte_stream& s, Handler&& handler) {
    using op = detail::teardown_drain<std::decay_t<Handler>>;
    s.shutdown_send();
    op{std::make_shared<typename op::state>(
        typename op::state{s, std::forward<Handler>(handler), {}})}(boost::system::error_code{}, 0);
}

} // namespace rpd::http
