// The long-poll consumers of `loadgen queue`: one raw keep-alive socket each
// (its own small HTTP/1.1 response parser, Content-Length or chunked), one
// request at a time, the next one as soon as an answer came.

#include "queue.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cctype>
#include <climits>
#include <random>

namespace qbench {

namespace {

// A number after pos, skipping the JSON (or escaped JSON) between a name and its value.
std::int64_t number_after(std::string_view text, std::size_t pos) {
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '"' || text[pos] == '\\' || text[pos] == ':'))
        ++pos;
    std::int64_t v = 0;
    bool any = false;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
        v = v * 10 + (text[pos++] - '0'), any = true;
    return any ? v : -1;
}

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

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

class http_consumer final : public consumer {
public:
    http_consumer(asio::io_context& io, const options& o, std::size_t i, std::string path,
                  asio::ip::address_v4 src, events& ev, std::size_t vanish_after, bool coming_back,
                  unsigned seed)
        : io_(io), o_(o), i_(i), src_(src), ev_(ev), vanish_after_(vanish_after),
          coming_back_(coming_back), rng_(seed) {
        req_ = "GET " + path + " HTTP/1.1\r\nHost: " + o_.host + "\r\n\r\n";
    }

    void start() override {
        sock_ = std::make_unique<tcp::socket>(io_);
        auto gen = ++gen_;
        in_.clear();
        if (!open_bound(*sock_, src_))
            return fail("socket");
        sock_->async_connect(tcp::endpoint(asio::ip::make_address(o_.host), o_.port),
                             [this, gen](boost::system::error_code ec) {
                                 if (gen != gen_)
                                     return;
                                 if (ec)
                                     return fail("connect_error");
                                 sock_->set_option(tcp::no_delay(true));
                                 open_ = true;
                                 read(gen);
                                 send();
                             });
    }
    void close() override {
        ++gen_;
        open_ = false;
        waiting_ = false;
        if (sock_) {
            boost::system::error_code ig;
            sock_->close(ig);
        }
        if (timer_)
            timer_->cancel();
    }
    bool waiting() const override { return waiting_; }

private:
    void fail(const std::string& kind) {
        close();
        ev_.failed(i_, kind);
    }
    void send() {
        if (ev_.stopping() || !open_ || half_closed_)
            return;
        waiting_ = true;
        auto gen = gen_;
        asio::async_write(*sock_, asio::buffer(req_),
                          [this, gen](boost::system::error_code ec, std::size_t) {
                              if (gen != gen_)
                                  return;
                              if (ec)
                                  return fail("write_error");
                              if (!first_written_) {
                                  first_written_ = true;
                                  ev_.ready(i_);
                              }
                          });
        if (got_ >= vanish_after_)
            arm_vanish();
    }
    void arm_vanish() {
        if (!timer_)
            timer_ = std::make_unique<asio::steady_timer>(io_);
        std::uniform_int_distribution<int> us(0, 20000);
        timer_->expires_after(std::chrono::microseconds(us(rng_)));
        auto gen = gen_;
        timer_->async_wait([this, gen](boost::system::error_code ec) {
            if (ec || gen != gen_ || !waiting_ || ev_.stopping())
                return;
            vanish();
        });
    }
    // Reads what has already arrived (an answer written before the close is
    // the server's delivery, not a loss; it is handled and the next request
    // goes out), then closes while that request waits.
    void vanish() {
        std::array<char, 4096> b{};
        for (;;) {
            auto n = ::recv(sock_->native_handle(), b.data(), b.size(), MSG_DONTWAIT);
            if (n <= 0)
                break;
            feed(b.data(), static_cast<std::size_t>(n));
        }
        if (!waiting_) // failed while reading
            return;
        vanish_after_ = SIZE_MAX;
        ev_.vanished(i_, coming_back_);
        auto later = std::chrono::microseconds(static_cast<long>(o_.reconnect_delay * 1e6));
        if (o_.vanish_mode == "shutdown") {
            // Diagnosis: send FIN but keep reading, so an answer the server
            // still writes after it is seen (and counted) instead of lost.
            half_closed_ = true;
            boost::system::error_code ig;
            sock_->shutdown(tcp::socket::shutdown_send, ig);
            timer_->expires_after(later);
            timer_->async_wait([this](boost::system::error_code ec) {
                if (ec || ev_.stopping())
                    return;
                half_closed_ = false;
                close();
                if (coming_back_) {
                    ev_.reconnected(i_);
                    start();
                }
            });
            return;
        }
        close();
        if (!coming_back_)
            return;
        timer_->expires_after(later);
        timer_->async_wait([this](boost::system::error_code ec) {
            if (ec || ev_.stopping())
                return;
            ev_.reconnected(i_);
            start();
        });
    }
    void read(unsigned gen) {
        sock_->async_read_some(
            asio::buffer(buf_), [this, gen](boost::system::error_code ec, std::size_t n) {
                // Bytes read before our own close (the reactor read them, the
                // handler was still queued) are an answer the server wrote:
                // counted, not dropped.
                if (n > 0)
                    feed(buf_.data(), n);
                if (gen != gen_)
                    return;
                if (ec) {
                    if (ev_.stopping() || half_closed_) {
                        // (half closed: the vanish timer reconnects)
                        ++gen_;
                        open_ = false;
                        boost::system::error_code ig;
                        sock_->close(ig);
                        return;
                    }
                    // The server closed the connection: ask again
                    // on a new one.
                    ev_.error(i_, waiting_ ? "closed_while_waiting" : "closed_idle");
                    close();
                    return start();
                }
                if (gen == gen_)
                    read(gen);
            });
    }
    void feed(const char* p, std::size_t n) {
        in_.append(p, n);
        const auto gen = gen_;
        while (gen == gen_) {
            auto end = in_.find("\r\n\r\n");
            if (end == std::string::npos) {
                if (in_.size() > 16384)
                    return fail("head_too_long");
                return;
            }
            int status = in_.size() > 12 ? std::atoi(in_.c_str() + 9) : 0;
            auto head = lower(std::string_view(in_).substr(0, end));
            bool close_after = head.find("\r\nconnection: close") != std::string::npos;
            std::string body;
            std::size_t used = 0;
            if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
                std::size_t pos = end + 4;
                bool complete = false;
                for (;;) {
                    auto eol = in_.find("\r\n", pos);
                    if (eol == std::string::npos)
                        break;
                    auto size = std::strtoul(in_.c_str() + pos, nullptr, 16);
                    if (size == 0) {
                        auto fin = in_.find("\r\n\r\n", eol);
                        if (fin == std::string::npos)
                            break;
                        used = fin + 4, complete = true;
                        break;
                    }
                    if (in_.size() < eol + 2 + size + 2)
                        break;
                    body.append(in_, eol + 2, size);
                    pos = eol + 2 + size + 2;
                }
                if (!complete)
                    return;
            } else {
                std::size_t len = 0;
                auto cl = head.find("\r\ncontent-length:");
                if (cl != std::string::npos)
                    len = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
                if (in_.size() < end + 4 + len)
                    return;
                body.assign(in_, end + 4, len);
                used = end + 4 + len;
            }
            in_.erase(0, used);
            answer(status, body);
            if (close_after && gen == gen_ && open_) {
                close();
                return start();
            }
        }
    }
    void answer(int status, const std::string& body) {
        waiting_ = false;
        std::int64_t seq = -1;
        ns_t t = 0;
        auto now = now_ns();
        if (status == 200 && scan_message(body, seq, t)) {
            ++got_;
            ev_.message(i_, seq, t, now);
            if (half_closed_)
                ev_.error(i_, "answer_after_fin");
        } else if (status == 504 || (status == 200 && body.find("null") != std::string::npos))
            ev_.timed_out(i_);
        else
            ev_.error(i_, "http_" + std::to_string(status));
        if (!ev_.stopping() && !half_closed_)
            send();
    }

    asio::io_context& io_;
    const options& o_;
    std::size_t i_;
    asio::ip::address_v4 src_;
    events& ev_;
    std::size_t vanish_after_;
    bool coming_back_;
    std::minstd_rand rng_;
    std::string req_, in_;
    std::unique_ptr<tcp::socket> sock_;
    std::unique_ptr<asio::steady_timer> timer_;
    std::array<char, 1024> buf_{};
    unsigned gen_ = 0;
    std::size_t got_ = 0;
    bool waiting_ = false, first_written_ = false, half_closed_ = false, open_ = false;
};

} // namespace

bool scan_message(std::string_view text, std::int64_t& seq, ns_t& t) {
    auto sp = text.find("seq");
    if (sp == std::string_view::npos)
        return false;
    seq = number_after(text, sp + 3);
    auto tp = text.find("\"t", sp);
    t = tp == std::string_view::npos ? 0 : number_after(text, tp + 2);
    return seq >= 0;
}

std::unique_ptr<consumer> make_http_consumer(asio::io_context& io, const options& o, std::size_t i,
                                             std::string path, asio::ip::address_v4 src, events& ev,
                                             std::size_t vanish_after, bool coming_back,
                                             unsigned seed) {
    return std::make_unique<http_consumer>(io, o, i, std::move(path), src, ev, vanish_after,
                                           coming_back, seed);
}

} // namespace qbench
