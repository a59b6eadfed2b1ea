#include "redis_push/http/websocket_session.hpp"

#include <boost/beast/core/stream_traits.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace rpd::http {

namespace websocket = boost::beast::websocket;
using boost::system::error_code;

namespace {
// Read space after the first bytes of a message: doubled while it grows.
constexpr std::size_t min_read_room = 256;
// Written frames are erased from the front of the queue in batches.
constexpr std::size_t queue_compact_at = 64;
} // namespace

websocket_session::websocket_session(byte_stream stream, connection_slot slot, context& ctx,
                                     const ws_handler_factory& factory, const ws_limits& limits)
    : ws_(std::move(stream)), ctx_(ctx), slot_(std::in_place, std::move(slot)), factory_(&factory),
      max_message_bytes_(limits.max_message_bytes), max_output_bytes_(limits.max_output_bytes) {
    ctx_.sessions.push_back(*this);

    websocket::stream_base::timeout t;
    // The 101 and, at the end, the client's answer to our close frame
    // must come within one ping interval.
    t.handshake_timeout = limits.ping;
    // Beast pings after idle_timeout / 2 of silence and gives up when the
    // next half passes with nothing read (no pong).
    t.idle_timeout = 2 * limits.ping;
    t.keep_alive_pings = true;
    ws_.set_option(t);
    // Our name rather than the library's (captureless: stored inline).
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(boost::beast::http::field::server, "redis-push-daemon");
    }));
    ws_.read_message_max(max_message_bytes_); // over it: Beast closes with 1009
    ws_.auto_fragment(false);                 // one frame per message
}

websocket_session::~websocket_session() {
    phase_ = phase::ended; // a handler that sends from its destructor is not heard
    handler_.reset();
    // Every way a connection ends goes through end(); only a loop destroyed
    // with our operations pending (the process ending) does not, and then
    // the counters may be gone already.
}

void websocket_session::run(
    const boost::beast::http::request<boost::beast::http::string_body>& head, std::size_t early) {
    if (early > 0) {
        // Frames before the 101: not a WebSocket client we can talk to.
        spdlog::debug("websocket: bytes sent before the handshake's answer; closed");
        return end();
    }
    // Beast builds its answer from the head here; the head is not used later.
    ws_.async_accept(head,
                     [self = shared_from_this()](const error_code& ec) { self->on_accept(ec); });
}

void websocket_session::on_accept(const error_code& ec) {
    if (phase_ == phase::ended)
        return;
    if (ec || socket_closed_)
        return end();
    phase_ = phase::open;
    ++ctx_.metrics.ws_connections;
    counted_ = true;
    if (ctx_.shutting_down) { // the upgrade was read while the server began to stop
        read_next();
        return begin_close(websocket::close_code::going_away);
    }
    handler_ = (*factory_)(*this);
    factory_ = nullptr;
    if (socket_closed_) // dropped by what the handler sent from its constructor
        return end();
    read_next();
}

// The first read of a message goes into the string's inline storage, so an
// idle connection's pending read owns no heap; a longer message grows it.
void websocket_session::read_next() {
    const std::size_t have = message_.size();
    std::size_t room = have == 0 ? message_.capacity() : std::max(have, min_read_room);
    const std::size_t left = have < max_message_bytes_ ? max_message_bytes_ - have : 0;
    room = std::max<std::size_t>(1, std::min(room, left));
    message_.resize(have + room);
    ws_.async_read_some(boost::asio::buffer(message_.data() + have, room),
                        [self = shared_from_this(), have](const error_code& ec, std::size_t n) {
                            self->message_.resize(have + (ec ? 0 : n));
                            self->on_read(ec, n);
                        });
}

void websocket_session::on_read(const error_code& ec, std::size_t) {
    if (ec || socket_closed_ || phase_ == phase::ended) {
        if (ec && ec != websocket::error::closed)
            spdlog::debug("websocket: connection ends: {}", ec.message());
        return end();
    }
    if (!ws_.is_message_done())
        return read_next();
    if (phase_ == phase::open && handler_)
        handler_->on_message(message_);
    std::string().swap(message_);                 // back to the inline storage
    if (socket_closed_ || phase_ == phase::ended) // dropped while answering
        return end();
    read_next();
}

void websocket_session::send_item(std::string_view text, feed::receipt written) {
    if (phase_ != phase::open || socket_closed_)
        return;
    // The slow-client rule: what the client has not taken yet may not pass
    // the limit. A single frame of any size is still sent to a client that
    // has nothing pending.
    if (unsent_bytes_ > 0 && unsent_bytes_ + text.size() > max_output_bytes_) {
        ++ctx_.metrics.slow_clients_dropped;
        spdlog::debug("websocket: dropped a client that does not take its output");
        close_socket(true); // the pending read ends, and with it the connection
        return;
    }
    queue_.push_back({std::string(text), std::move(written)});
    unsent_bytes_ += text.size();
    if (!writing_)
        write_next();
}

void websocket_session::write_next() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(
        boost::asio::buffer(queue_[queue_head_].text),
        [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_write(ec); });
}

void websocket_session::on_write(const error_code& ec) {
    writing_ = false;
    auto& sent = queue_[queue_head_];
    unsent_bytes_ -= sent.text.size();
    std::string().swap(sent.text);
    // As for HTTP answers: a frame that reached a socket whose FIN was
    // already here is never read.
    if (sent.written)
        sent.written.settle(!ec && !boost::beast::get_lowest_layer(ws_).peer_closed());
    ++queue_head_;
    if (ec || phase_ != phase::open || socket_closed_ || queue_head_ == queue_.size()) {
        // Done, or nothing more goes out: the queue gives its memory back.
        std::vector<outgoing>().swap(queue_);
        queue_head_ = 0;
        unsent_bytes_ = 0;
        return;
    }
    if (queue_head_ >= queue_compact_at && 2 * queue_head_ >= queue_.size()) {
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(queue_head_));
        queue_head_ = 0;
    }
    write_next();
}

void websocket_session::begin_close(websocket::close_code code) {
    if (phase_ != phase::open)
        return;
    phase_ = phase::closing;
    // Frames not yet in flight are dropped; Beast sends the close frame
    // after the one being written. The read loop goes on until the client
    // answers the close (or the handshake timeout passes).
    queue_.resize(writing_ ? queue_head_ + 1 : 0);
    unsent_bytes_ = writing_ ? queue_[queue_head_].text.size() : 0;
    ws_.async_close(code, [self = shared_from_this()](const error_code& ec) {
        if (ec)
            self->close_socket(false);
    });
}

void websocket_session::shutdown() {
    if (phase_ == phase::accepting)
        return close_socket(false);
    begin_close(websocket::close_code::going_away);
}

void websocket_session::abort() {
    if (phase_ != phase::ended)
        close_socket(false);
}

// Every pending operation then ends with an error; the read's end ends the
// connection (end()).
void websocket_session::close_socket(bool reset) {
    if (socket_closed_)
        return;
    socket_closed_ = true;
    auto& s = boost::beast::get_lowest_layer(ws_);
    if (reset) // the kernel frees what a client that does not read left queued
        s.reset_on_close();
    s.close();
}

// Only where no read is pending: the handler goes, the connection leaves
// the count and the session list; the last completion then frees us.
void websocket_session::end() {
    if (phase_ == phase::ended)
        return;
    phase_ = phase::ended;
    factory_ = nullptr;
    handler_.reset(); // its only close signal; send_text is ignored from here
    if (counted_) {
        --ctx_.metrics.ws_connections;
        counted_ = false;
    }
    close_socket(false);
    session_base::hook.unlink();
    slot_.reset();
    std::string().swap(message_);
    if (!writing_) {
        std::vector<outgoing>().swap(queue_);
        queue_head_ = 0;
        unsent_bytes_ = 0;
    }
}

void start_websocket_session(taken_connection&& c, context& ctx, const ws_handler_factory& factory,
                             const ws_limits& limits) {
    const std::size_t early = c.buffer.size();
    auto s = std::make_shared<websocket_session>(std::move(c.stream), std::move(c.slot), ctx,
                                                 factory, limits);
    s->run(c.head, early);
}

} // namespace rpd::http
