// The stream subscribers of `loadgen stream`: SSE over a raw socket (its own
// chunked decoder and line parser, so a held connection costs one small
// buffer) and WebSocket through Beast.

#include "stream.hpp"

#include <boost/beast/websocket.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cctype>

namespace stream {

namespace websocket = beast::websocket;

namespace {

std::int64_t number_after(std::string_view text, std::size_t pos) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '"'))
        ++pos;
    std::int64_t v = 0;
    bool any = false;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
        v = v * 10 + (text[pos++] - '0'), any = true;
    return any ? v : -1;
}

// A socket bound to one of the source addresses (spreads the 4-tuples).
bool open_bound(tcp::socket& s, asio::ip::address_v4 src) {
    boost::system::error_code ec;
    s.open(tcp::v4(), ec);
    if (ec)
        return false;
    int one = 1;
    ::setsockopt(s.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    s.bind(tcp::endpoint(src, 0), ec);
    return !ec;
}

class sse_sub final : public subscriber {
public:
    sse_sub(asio::io_context& io, const options& o, std::size_t i, std::string path,
            asio::ip::address_v4 src, events& ev)
        : o_(o), i_(i), path_(std::move(path)), src_(src), ev_(ev), sock_(io) {}

    void start() override {
        if (!open_bound(sock_, src_))
            return fail("socket");
        sock_.async_connect(tcp::endpoint(asio::ip::make_address(o_.host), o_.port),
                            [this](boost::system::error_code ec) {
                                if (ec)
                                    return fail("connect_error");
                                sock_.set_option(tcp::no_delay(true));
                                req_ = "GET " + path_ + " HTTP/1.1\r\nHost: " + o_.host +
                                       "\r\nAccept: text/event-stream\r\nCache-Control: "
                                       "no-cache\r\n\r\n";
                                asio::async_write(
                                    sock_, asio::buffer(req_),
                                    [this](boost::system::error_code ec, std::size_t) {
                                        std::string().swap(req_);
                                        if (ec)
                                            return fail("write_error");
                                        read();
                                    });
                            });
    }
    void close() override {
        closed_ = true;
        boost::system::error_code ig;
        sock_.close(ig);
    }

private:
    void fail(const std::string& kind) {
        if (closed_)
            return;
        close();
        ev_.failed(i_, kind);
    }
    void read() {
        sock_.async_read_some(
            asio::buffer(buf_), [this](boost::system::error_code ec, std::size_t n) {
                if (ec)
                    return fail(in_body_ ? "closed_while_held" : "closed_before_head");
                feed(buf_.data(), n);
                if (!closed_)
                    read();
            });
    }
    void feed(const char* p, std::size_t n) {
        if (in_body_)
            return body(p, n);
        head_.append(p, n);
        auto end = head_.find("\r\n\r\n");
        if (end == std::string::npos) {
            if (head_.size() > 16384)
                fail("head_too_long");
            return;
        }
        int status = head_.size() > 12 ? std::atoi(head_.c_str() + 9) : 0;
        std::string lower = head_.substr(0, end);
        for (auto& c : lower)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (status != 200)
            return fail("http_" + std::to_string(status));
        if (lower.find("text/event-stream") == std::string::npos)
            return fail("not_event_stream");
        chunked_ = lower.find("transfer-encoding: chunked") != std::string::npos;
        std::string rest = head_.substr(end + 4);
        std::string().swap(head_);
        in_body_ = true;
        ev_.established(i_);
        if (!rest.empty())
            body(rest.data(), rest.size());
    }
    void body(const char* p, std::size_t n) {
        if (!chunked_)
            return lines(p, n);
        for (std::size_t k = 0; k < n && !closed_;) {
            char c = p[k];
            switch (cs_) {
            case cstate::size:
                if (std::isxdigit(static_cast<unsigned char>(c)))
                    left_ = left_ * 16 +
                            static_cast<std::size_t>(std::isdigit(static_cast<unsigned char>(c))
                                                         ? c - '0'
                                                         : (c | 0x20) - 'a' + 10);
                else if (c == ';')
                    cs_ = cstate::ext;
                else if (c == '\n')
                    cs_ = left_ ? cstate::data : cstate::end;
                ++k;
                break;
            case cstate::ext:
                if (c == '\n')
                    cs_ = left_ ? cstate::data : cstate::end;
                ++k;
                break;
            case cstate::data: {
                std::size_t take = std::min(left_, n - k);
                lines(p + k, take);
                k += take;
                left_ -= take;
                if (left_ == 0)
                    cs_ = cstate::data_end;
                break;
            }
            case cstate::data_end:
                if (c == '\n')
                    cs_ = cstate::size;
                ++k;
                break;
            case cstate::end:
                return fail("stream_ended");
            }
        }
        if (cs_ == cstate::end)
            fail("stream_ended");
    }
    void lines(const char* p, std::size_t n) {
        for (std::size_t k = 0; k < n; ++k) {
            if (p[k] != '\n') {
                line_ += p[k];
                continue;
            }
            if (line_.rfind("data:", 0) == 0)
                scan_messages(line_, i_, ev_);
            line_.clear();
        }
    }

    enum class cstate { size, ext, data, data_end, end };
    const options& o_;
    std::size_t i_;
    std::string path_;
    asio::ip::address_v4 src_;
    events& ev_;
    tcp::socket sock_;
    std::string req_, head_, line_;
    std::array<char, 2048> buf_{};
    bool in_body_ = false, chunked_ = false, closed_ = false;
    cstate cs_ = cstate::size;
    std::size_t left_ = 0;
};

class ws_sub final : public subscriber {
public:
    ws_sub(asio::io_context& io, const options& o, std::size_t i, std::string path,
           std::string stream, asio::ip::address_v4 src, events& ev)
        : o_(o), i_(i), path_(std::move(path)), stream_(std::move(stream)), src_(src), ev_(ev),
          ws_(io) {}

    void start() override {
        if (!open_bound(ws_.next_layer(), src_))
            return fail("socket");
        ws_.next_layer().async_connect(
            tcp::endpoint(asio::ip::make_address(o_.host), o_.port),
            [this](boost::system::error_code ec) {
                if (ec)
                    return fail("connect_error");
                ws_.next_layer().set_option(tcp::no_delay(true));
                ws_.read_message_max(1 << 20);
                ws_.async_handshake(o_.host + ":" + std::to_string(o_.port), path_,
                                    [this](boost::system::error_code ec) {
                                        if (ec)
                                            return fail("handshake_error");
                                        if (o_.target != "daemon") {
                                            established_ = true;
                                            ev_.established(i_);
                                            return read();
                                        }
                                        msg_ = R"({"type":"subscribe","stream":")" + stream_ +
                                               R"(","offset":"$","id":1})";
                                        ws_.text(true);
                                        ws_.async_write(
                                            asio::buffer(msg_),
                                            [this](boost::system::error_code ec, std::size_t) {
                                                std::string().swap(msg_);
                                                if (ec)
                                                    return fail("write_error");
                                                read();
                                            });
                                    });
            });
    }
    void close() override {
        closed_ = true;
        boost::system::error_code ig;
        ws_.next_layer().close(ig);
    }

private:
    void fail(const std::string& kind) {
        if (closed_)
            return;
        close();
        ev_.failed(i_, kind);
    }
    void read() {
        ws_.async_read(buf_, [this](boost::system::error_code ec, std::size_t) {
            if (ec)
                return fail(established_ ? "closed_while_held" : "closed_before_subscribed");
            std::string_view text(static_cast<const char*>(buf_.data().data()), buf_.size());
            if (!established_) {
                if (text.find(R"("type":"subscribed")") != std::string_view::npos) {
                    established_ = true;
                    ev_.established(i_);
                } else if (text.find(R"("type":"error")") != std::string_view::npos)
                    return fail("subscribe_error");
            }
            scan_messages(text, i_, ev_);
            buf_.consume(buf_.size());
            if (!closed_)
                read();
        });
    }

    const options& o_;
    std::size_t i_;
    std::string path_, stream_;
    asio::ip::address_v4 src_;
    events& ev_;
    websocket::stream<tcp::socket> ws_;
    beast::flat_buffer buf_;
    std::string msg_;
    bool established_ = false, closed_ = false;
};

} // namespace

void scan_messages(std::string_view text, std::size_t i, events& ev) {
    std::size_t tp = 0, sp = 0;
    for (;;) {
        tp = text.find(R"("t":)", tp);
        sp = text.find(R"("seq":)", sp);
        if (tp == std::string_view::npos || sp == std::string_view::npos)
            return;
        auto now = now_ns();
        tp += 4, sp += 6;
        ev.message(i, number_after(text, sp), number_after(text, tp), now);
    }
}

std::unique_ptr<subscriber> make_sse(asio::io_context& io, const options& o, std::size_t i,
                                     const std::string& stream, asio::ip::address_v4 src,
                                     events& ev) {
    return std::make_unique<sse_sub>(io, o, i, with_name(o.sse_path, stream), src, ev);
}

std::unique_ptr<subscriber> make_ws(asio::io_context& io, const options& o, std::size_t i,
                                    const std::string& stream, asio::ip::address_v4 src,
                                    events& ev) {
    return std::make_unique<ws_sub>(io, o, i, with_name(o.ws_path, stream), stream, src, ev);
}

} // namespace stream
