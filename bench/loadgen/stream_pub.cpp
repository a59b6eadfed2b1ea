// The publishers of `loadgen stream`: XADD over one raw RESP connection
// (daemon), POST /pub/<name> over a few keep-alive connections (Nchan).
// Each message is {"t":<steady_clock ns when written>,"seq":<k>}.

#include "stream.hpp"

#include <deque>
#include <iostream>

namespace stream {

namespace {

class redis_pub final : public publisher {
public:
    redis_pub(asio::io_context& io, const options& o) : o_(o), sock_(io) {}

    void start(std::function<void()> ready) override {
        sock_.async_connect(tcp::endpoint(asio::ip::make_address(o_.redis_host), o_.redis_port),
                            [this, ready](boost::system::error_code ec) {
                                if (ec) {
                                    std::cerr << "loadgen: redis connect: " << ec.message() << "\n";
                                    std::exit(2);
                                }
                                sock_.set_option(tcp::no_delay(true));
                                read();
                                // bench/run leaves this connection out of its count.
                                write("*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$7\r\nloadgen\r\n");
                                ready();
                            });
    }

    ns_t publish(const std::string& stream, std::int64_t seq) override {
        std::string key = o_.prefix + "S_" + stream;
        auto t = now_ns();
        std::string ts = std::to_string(t), ss = std::to_string(seq);
        std::string out =
            "*7\r\n$4\r\nXADD\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n";
        out += "$1\r\n*\r\n$1\r\nt\r\n$" + std::to_string(ts.size()) + "\r\n" + ts +
               "\r\n$3\r\nseq\r\n$" + std::to_string(ss.size()) + "\r\n" + ss + "\r\n";
        ++sent;
        write(std::move(out));
        return t;
    }

private:
    void write(std::string s) {
        q_.push_back(std::move(s));
        if (!writing_)
            next();
    }
    void next() {
        if (q_.empty())
            return;
        writing_ = true;
        asio::async_write(sock_, asio::buffer(q_.front()),
                          [this](boost::system::error_code ec, std::size_t) {
                              if (ec) {
                                  std::cerr << "loadgen: redis write: " << ec.message() << "\n";
                                  std::exit(2);
                              }
                              writing_ = false;
                              q_.pop_front();
                              next();
                          });
    }
    // Replies: +OK (SETNAME), $<n> + the id (XADD), -ERR.
    void read() {
        sock_.async_read_some(
            asio::buffer(rbuf_), [this](boost::system::error_code ec, std::size_t n) {
                if (ec)
                    return;
                in_.append(rbuf_.data(), n);
                std::size_t pos = 0;
                for (;;) {
                    auto eol = in_.find("\r\n", pos);
                    if (eol == std::string::npos)
                        break;
                    char c = in_[pos];
                    if (c == '$' && in_.compare(pos, 3, "$-1") != 0) {
                        auto eol2 = in_.find("\r\n", eol + 2);
                        if (eol2 == std::string::npos)
                            break;
                        eol = eol2;
                    } else if (c == '-') {
                        ++errors, ++error_kinds["redis_error"];
                        std::cerr << "loadgen: redis: " << in_.substr(pos, eol - pos) << "\n";
                    }
                    ++replies;
                    pos = eol + 2;
                }
                in_.erase(0, pos);
                read();
            });
    }

    const options& o_;
    tcp::socket sock_;
    std::deque<std::string> q_;
    bool writing_ = false;
    std::array<char, 16384> rbuf_{};
    std::string in_;
};

class http_pub final : public publisher {
    struct conn {
        tcp::socket sock;
        beast::flat_buffer buf;
        std::optional<http::response_parser<http::string_body>> parser;
        std::deque<std::string> q;
        bool writing = false;
        explicit conn(asio::io_context& io) : sock(io) {}
    };

public:
    http_pub(asio::io_context& io, const options& o) : io_(io), o_(o) {}

    void start(std::function<void()> ready) override {
        auto pending = std::make_shared<std::size_t>(std::max<std::size_t>(1, o_.pub_conns));
        for (std::size_t i = 0; i < *pending; ++i) {
            conns_.push_back(std::make_unique<conn>(io_));
            auto* c = conns_.back().get();
            c->sock.async_connect(tcp::endpoint(asio::ip::make_address(o_.host), o_.port),
                                  [this, c, pending, ready](boost::system::error_code ec) {
                                      if (ec) {
                                          std::cerr
                                              << "loadgen: publisher connect: " << ec.message()
                                              << "\n";
                                          std::exit(2);
                                      }
                                      c->sock.set_option(tcp::no_delay(true));
                                      read(c);
                                      if (--*pending == 0)
                                          ready();
                                  });
        }
    }

    ns_t publish(const std::string& stream, std::int64_t seq) override {
        auto* c = conns_[next_++ % conns_.size()].get();
        auto t = now_ns();
        std::string body =
            R"({"t":)" + std::to_string(t) + R"(,"seq":)" + std::to_string(seq) + "}";
        c->q.push_back("POST " + with_name(o_.pub_path, stream) + " HTTP/1.1\r\nHost: " + o_.host +
                       "\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body);
        ++sent;
        if (!c->writing)
            next(c);
        return t;
    }

private:
    void next(conn* c) {
        if (c->q.empty())
            return;
        c->writing = true;
        asio::async_write(c->sock, asio::buffer(c->q.front()),
                          [this, c](boost::system::error_code ec, std::size_t) {
                              if (ec) {
                                  std::cerr << "loadgen: publisher write: " << ec.message() << "\n";
                                  std::exit(2);
                              }
                              c->writing = false;
                              c->q.pop_front();
                              next(c);
                          });
    }
    void read(conn* c) {
        c->parser.emplace();
        c->parser->body_limit(1 << 20);
        http::async_read(c->sock, c->buf, *c->parser,
                         [this, c](boost::system::error_code ec, std::size_t) {
                             if (ec)
                                 return;
                             ++replies;
                             auto st = c->parser->get().result_int();
                             if (st < 200 || st > 299)
                                 ++errors, ++error_kinds["pub_http_" + std::to_string(st)];
                             read(c);
                         });
    }

    asio::io_context& io_;
    const options& o_;
    std::vector<std::unique_ptr<conn>> conns_;
    std::size_t next_ = 0;
};

} // namespace

std::unique_ptr<publisher> make_redis_publisher(asio::io_context& io, const options& o) {
    return std::make_unique<redis_pub>(io, o);
}

std::unique_ptr<publisher> make_http_publisher(asio::io_context& io, const options& o) {
    return std::make_unique<http_pub>(io, o);
}

} // namespace stream
