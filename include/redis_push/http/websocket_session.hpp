#pragma once

#include "redis_push/http/byte_stream.hpp"
#include "redis_push/http/connection_slot.hpp"
#include "redis_push/http/context.hpp"
#include "redis_push/http/endpoint.hpp"
#include "redis_push/http/session_list.hpp"
#include "redis_push/http/websocket.hpp"

#include <boost/beast/websocket/stream.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rpd::http {

// One WebSocket connection over a connection an endpoint took over:
// Beast's websocket::stream does the framing, the handshake (accepted with
// the head the HTTP session read), pings, close codes and the read limit;
// this class adds the message loop, a one-at-a-time write queue with the
// slow-client rule, shutdown, and the handler's life.
//
// Lifetime: one owner. Every pending operation holds a shared_ptr to the
// session; when the connection ends for any reason (client close, error,
// ping timeout, 1009, slow client, shutdown, abort) the handler is
// destroyed, the connection leaves the count and the session list at once,
// and the session itself goes with the last completion.
//
// Memory of an idle connection: Beast's stream (its 1.5 KiB frame buffer
// inside), this object, one pending read and Beast's ping timer. The
// message buffer and the write queue hold nothing between messages.
class websocket_session final : public session_base,
                                public ws_output,
                                public std::enable_shared_from_this<websocket_session> {
public:
    // `factory` is called once the handshake succeeded; it must stay valid
    // until then (the endpoint that owns it outlives its connections'
    // handshakes).
    websocket_session(byte_stream stream, connection_slot slot, context& ctx,
                      const ws_handler_factory& factory, const ws_limits& limits);
    ~websocket_session();

    websocket_session(const websocket_session&) = delete;
    websocket_session& operator=(const websocket_session&) = delete;

    // Accepts the upgrade `head` (the request the HTTP session read; not
    // needed after the call). `early` are bytes the client sent past the
    // head: a client must wait for the 101 before it sends frames, so any
    // close the connection.
    void run(const boost::beast::http::request<boost::beast::http::string_body>& head,
             std::size_t early);

    // session_base: close with 1001 (going away); close the socket now.
    void shutdown() override;
    void abort() override;

    // ws_output
    void send_text(std::string_view text) override { send_item(text, {}); }
    void send_item(std::string_view text, feed::receipt written) override;

private:
    enum class phase : std::uint8_t {
        accepting, // the 101 is being written
        open,      // messages both ways
        closing,   // our close frame is out or on its way; no more frames
        ended      // the connection is over: handler gone, slot given back
    };

    void on_accept(const boost::system::error_code& ec);
    void read_next();
    void on_read(const boost::system::error_code& ec, std::size_t n);
    void write_next();
    void on_write(const boost::system::error_code& ec);
    void begin_close(boost::beast::websocket::close_code code);
    void close_socket(bool reset);
    void end();

    boost::beast::websocket::stream<byte_stream> ws_;
    context& ctx_;
    std::optional<connection_slot> slot_;
    const ws_handler_factory* factory_; // until the handshake is done
    std::unique_ptr<ws_handler> handler_;
    std::string message_; // the message being read; empty (no heap) between messages
    struct outgoing {
        std::string text;
        feed::receipt written; // settled when the frame is out, or dropped unsent
    };
    std::vector<outgoing> queue_; // frames not yet written, the one in flight at queue_head_
    std::size_t queue_head_ = 0;
    std::size_t unsent_bytes_ = 0;
    std::uint32_t max_message_bytes_;
    std::uint32_t max_output_bytes_;
    phase phase_ = phase::accepting;
    bool writing_ = false;
    bool socket_closed_ = false; // aborted or dropped: no more reads
    bool counted_ = false;       // in the ws_connections gauge
};

// Starts a websocket_session on a taken-over connection.
void start_websocket_session(taken_connection&& c, context& ctx, const ws_handler_factory& factory,
                             const ws_limits& limits);

} // namespace rpd::http
