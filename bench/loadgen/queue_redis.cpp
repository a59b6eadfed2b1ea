// The Redis side of `loadgen queue`: RPUSH over one raw RESP connection,
// pipelined (writes coalesced while one is in flight), and at the end
// LRANGE of every queue, to find what was neither delivered nor lost.

#include "queue.hpp"

#include <deque>
#include <iostream>
#include <optional>

namespace qbench {

namespace {

std::string bulk(std::string_view s) {
    return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

// One RESP reply, parsed just enough: the bulk strings of an array, or an error.
struct reply {
    bool error = false;
    std::string text;               // simple string / error / integer as text
    std::vector<std::string> items; // array of bulk strings (LRANGE)
};

// Parses one reply from in at pos; nullopt when incomplete.
std::optional<reply> parse(const std::string& in, std::size_t& pos) {
    auto eol = in.find("\r\n", pos);
    if (eol == std::string::npos)
        return std::nullopt;
    char c = in[pos];
    std::string line = in.substr(pos + 1, eol - pos - 1);
    reply r;
    if (c == '+' || c == ':' || c == '-') {
        r.error = c == '-';
        r.text = line;
        pos = eol + 2;
        return r;
    }
    auto bulk_at = [&](std::size_t& p, std::string& out) -> bool {
        auto e = in.find("\r\n", p);
        if (e == std::string::npos)
            return false;
        long n = std::strtol(in.c_str() + p + 1, nullptr, 10);
        if (n < 0) {
            p = e + 2;
            return true;
        }
        if (in.size() < e + 2 + static_cast<std::size_t>(n) + 2)
            return false;
        out.assign(in, e + 2, static_cast<std::size_t>(n));
        p = e + 2 + static_cast<std::size_t>(n) + 2;
        return true;
    };
    if (c == '$') {
        std::size_t p = pos;
        if (!bulk_at(p, r.text))
            return std::nullopt;
        pos = p;
        return r;
    }
    if (c == '*') {
        long n = std::strtol(line.c_str(), nullptr, 10);
        std::size_t p = eol + 2;
        for (long k = 0; k < n; ++k) {
            if (p >= in.size())
                return std::nullopt;
            std::string item;
            if (!bulk_at(p, item))
                return std::nullopt;
            r.items.push_back(std::move(item));
        }
        pos = p;
        return r;
    }
    r.error = true;
    r.text = "unexpected reply " + line;
    pos = eol + 2;
    return r;
}

class redis_conn final : public redis_side {
public:
    redis_conn(asio::io_context& io, const options& o) : o_(o), sock_(io) {
        std::size_t base = std::string(R"({"seq":,"t":,"pad":""})").size() + 8 + 19;
        pad_.assign(o_.message_bytes > base ? o_.message_bytes - base : 0, 'x');
    }

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
                                send("*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$7\r\nloadgen\r\n",
                                     {});
                                ready();
                            });
    }

    ns_t push(const std::string& key, std::int64_t seq) override {
        auto t = now_ns();
        std::string msg = R"({"seq":)" + std::to_string(seq) + R"(,"t":)" + std::to_string(t) +
                          R"(,"pad":")" + pad_ + R"("})";
        ++sent;
        send("*3\r\n$5\r\nRPUSH\r\n" + bulk(key) + bulk(msg), {});
        return t;
    }
    std::size_t in_flight() const override { return waiting_.size(); }

    void scan(const std::vector<std::string>& keys,
              std::function<void(std::vector<std::int64_t>)> done) override {
        auto left = std::make_shared<std::size_t>(keys.size());
        auto found = std::make_shared<std::vector<std::int64_t>>();
        if (keys.empty())
            return done({});
        for (auto& k : keys)
            send("*4\r\n$6\r\nLRANGE\r\n" + bulk(k) + "$1\r\n0\r\n$2\r\n-1\r\n",
                 [left, found, done](const reply& r) {
                     for (auto& m : r.items) {
                         std::int64_t seq = -1;
                         ns_t t = 0;
                         if (scan_message(m, seq, t))
                             found->push_back(seq);
                     }
                     if (--*left == 0)
                         done(std::move(*found));
                 });
    }

private:
    using handler = std::function<void(const reply&)>;
    void send(std::string cmd, handler h) {
        waiting_.push_back(std::move(h));
        out_ += cmd;
        if (!writing_)
            flush();
    }
    void flush() {
        if (out_.empty())
            return;
        writing_ = true;
        wbuf_.swap(out_);
        out_.clear();
        asio::async_write(sock_, asio::buffer(wbuf_),
                          [this](boost::system::error_code ec, std::size_t) {
                              if (ec) {
                                  std::cerr << "loadgen: redis write: " << ec.message() << "\n";
                                  std::exit(2);
                              }
                              writing_ = false;
                              wbuf_.clear();
                              flush();
                          });
    }
    void read() {
        sock_.async_read_some(asio::buffer(rbuf_),
                              [this](boost::system::error_code ec, std::size_t n) {
                                  if (ec)
                                      return;
                                  in_.append(rbuf_.data(), n);
                                  std::size_t pos = 0;
                                  while (pos < in_.size()) {
                                      auto r = parse(in_, pos);
                                      if (!r)
                                          break;
                                      ++replies;
                                      if (r->error) {
                                          ++errors, ++error_kinds["redis_error"];
                                          std::cerr << "loadgen: redis: " << r->text << "\n";
                                      }
                                      handler h;
                                      if (!waiting_.empty()) {
                                          h = std::move(waiting_.front());
                                          waiting_.pop_front();
                                      }
                                      if (h)
                                          h(*r);
                                      if (on_reply)
                                          on_reply();
                                  }
                                  in_.erase(0, pos);
                                  read();
                              });
    }

    const options& o_;
    tcp::socket sock_;
    std::string pad_, out_, wbuf_, in_;
    std::deque<handler> waiting_;
    bool writing_ = false;
    std::array<char, 65536> rbuf_{};
};

} // namespace

std::unique_ptr<redis_side> make_redis_side(asio::io_context& io, const options& o) {
    return std::make_unique<redis_conn>(io, o);
}

} // namespace qbench
