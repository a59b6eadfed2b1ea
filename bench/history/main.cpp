// history_bench: the figures of issue 12 (bench/history.py drives it).
//
//   history_bench pages --port P --redis-port R --key RA_S_h --name h --limit 1000
//       Pages a whole stream twice over one connection each: raw XRANGE (cursor + COUNT n
//       straight to Redis, RESP parsed just enough to find the last id) and the daemon's
//       GET /stream/<name>/history?limit=n&after=<next> (keep-alive, `next`/`end` read from
//       the body). Prints {"raw_entries_per_s", "daemon_entries_per_s", "ratio", ...}.
//   history_bench fetch --port P --name h --fetches 100 --accept-ms 5 --seconds 30
//                       --pid <daemon pid> --spread 10000
//       100 WebSocket fetches (one socket each), fetch i after offset <i*spread>-1, each
//       row accepted accept-ms after it arrived; the daemon's RSS sampled every second.
//       Prints {"rows", "rss_kb": [...], "rss_first_kb", "rss_max_kb", "rss_min_kb", ...}.
//
// Speaks HTTP, WebSocket and RESP itself; does not link the daemon.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ws = beast::websocket;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

namespace {

std::map<std::string, std::string> args_of(int argc, char** argv) {
    std::map<std::string, std::string> out;
    for (int i = 2; i + 1 < argc; i += 2)
        out[std::string(argv[i]).substr(2)] = argv[i + 1];
    return out;
}

std::string arg(const std::map<std::string, std::string>& a, const std::string& k,
                const std::string& dflt) {
    const auto it = a.find(k);
    return it == a.end() ? dflt : it->second;
}

double secs(clock_type::duration d) {
    return std::chrono::duration<double>(d).count();
}

// ------------------------------------------------------------ RESP

// Reads one RESP value from the socket; for an XRANGE reply records the
// number of entries and the last entry's id.
class resp_reader {
public:
    explicit resp_reader(tcp::socket& s) : s_(s) {}

    // XRANGE reply: *N then N entries of *2 [$id, *2k [...]].
    std::size_t read_xrange(std::string& last_id) {
        const auto n = read_header('*');
        for (long long i = 0; i < n; ++i) {
            expect_array(2);
            last_id = read_bulk();
            skip_value();
        }
        return static_cast<std::size_t>(n);
    }

private:
    std::string line() {
        while (true) {
            const auto nl = buf_.find("\r\n", pos_);
            if (nl != std::string::npos) {
                std::string l = buf_.substr(pos_, nl - pos_);
                pos_ = nl + 2;
                return l;
            }
            fill();
        }
    }
    void fill() {
        if (pos_ > 0) {
            buf_.erase(0, pos_);
            pos_ = 0;
        }
        char tmp[65536];
        const auto n = s_.read_some(asio::buffer(tmp));
        buf_.append(tmp, n);
    }
    long long read_header(char type) {
        const auto l = line();
        if (l.empty() || l[0] != type)
            throw std::runtime_error("unexpected RESP: " + l);
        return std::stoll(l.substr(1));
    }
    void expect_array(long long n) {
        if (read_header('*') != n)
            throw std::runtime_error("unexpected array size");
    }
    std::string read_bulk() {
        const auto n = static_cast<std::size_t>(read_header('$'));
        while (buf_.size() - pos_ < n + 2)
            fill();
        std::string out = buf_.substr(pos_, n);
        pos_ += n + 2;
        return out;
    }
    void skip_value() {
        const auto l = line();
        if (l.empty())
            throw std::runtime_error("empty RESP line");
        if (l[0] == '*') {
            const auto n = std::stoll(l.substr(1));
            for (long long i = 0; i < n; ++i)
                skip_value();
        } else if (l[0] == '$') {
            const auto n = std::stoll(l.substr(1));
            if (n < 0)
                return;
            while (buf_.size() - pos_ < static_cast<std::size_t>(n) + 2)
                fill();
            pos_ += static_cast<std::size_t>(n) + 2;
        }
    }

    tcp::socket& s_;
    std::string buf_;
    std::size_t pos_ = 0;
};

std::string resp_command(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args)
        out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    return out;
}

// ------------------------------------------------------------ pages

struct walk {
    std::size_t entries = 0;
    std::size_t pages = 0;
    std::size_t bytes = 0;
    double seconds = 0;
};

walk raw_walk(unsigned short redis_port, const std::string& key, std::size_t limit) {
    asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect({asio::ip::make_address("127.0.0.1"), redis_port});
    s.set_option(tcp::no_delay(true));
    resp_reader in(s);
    walk w;
    std::string cursor = "-";
    const auto start = clock_type::now();
    while (true) {
        asio::write(s, asio::buffer(resp_command(
                           {"XRANGE", key, cursor, "+", "COUNT", std::to_string(limit)})));
        std::string last;
        const auto n = in.read_xrange(last);
        w.entries += n;
        ++w.pages;
        if (n < limit)
            break;
        cursor = "(" + last;
    }
    w.seconds = secs(clock_type::now() - start);
    return w;
}

// One keep-alive GET; returns the body.
std::string http_get(tcp::socket& s, std::string& buf, const std::string& target) {
    const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    asio::write(s, asio::buffer(req));
    std::size_t head_end;
    char tmp[65536];
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos)
        buf.append(tmp, s.read_some(asio::buffer(tmp)));
    const auto head = buf.substr(0, head_end);
    if (head.compare(0, 12, "HTTP/1.1 200") != 0)
        throw std::runtime_error("answer: " + head.substr(0, head.find("\r\n")));
    const auto cl = head.find("Content-Length: ");
    if (cl == std::string::npos)
        throw std::runtime_error("no Content-Length");
    const auto len = std::stoull(head.substr(cl + 16));
    while (buf.size() < head_end + 4 + len)
        buf.append(tmp, s.read_some(asio::buffer(tmp)));
    std::string body = buf.substr(head_end + 4, len);
    buf.erase(0, head_end + 4 + len);
    return body;
}

walk daemon_walk(unsigned short port, const std::string& name, std::size_t limit) {
    asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    s.set_option(tcp::no_delay(true));
    std::string buf;
    walk w;
    std::string after = "0";
    const auto base = "/stream/" + name + "/history?limit=" + std::to_string(limit) + "&after=";
    const auto start = clock_type::now();
    while (true) {
        const auto body = http_get(s, buf, base + after);
        w.bytes += body.size();
        ++w.pages;
        // The tail: ...],"next":"<id>"|null,"end":true|false}
        const auto np = body.rfind(R"(],"next":)");
        if (np == std::string::npos)
            throw std::runtime_error("no next in " + body.substr(0, 200));
        std::size_t count = 0;
        // Messages: one `{"offset":` each (field values are numbers here).
        for (auto p = body.find(R"({"offset":)"); p != std::string::npos && p < np;
             p = body.find(R"({"offset":)", p + 1))
            ++count;
        w.entries += count;
        const bool end = body.compare(body.size() - 11, 11, R"("end":true})") == 0;
        if (end)
            break;
        const auto q = np + 10;
        after = body.substr(q, body.find('"', q) - q);
    }
    w.seconds = secs(clock_type::now() - start);
    return w;
}

int pages(const std::map<std::string, std::string>& a) {
    const auto limit = std::stoul(arg(a, "limit", "1000"));
    const auto raw = raw_walk(static_cast<unsigned short>(std::stoi(arg(a, "redis-port", "6379"))),
                              arg(a, "key", "RA_S_h"), limit);
    const auto d = daemon_walk(static_cast<unsigned short>(std::stoi(arg(a, "port", "8888"))),
                               arg(a, "name", "h"), limit);
    const double raw_rate = static_cast<double>(raw.entries) / raw.seconds;
    const double d_rate = static_cast<double>(d.entries) / d.seconds;
    std::cout << json{{"raw_entries", raw.entries},    {"raw_seconds", raw.seconds},
                      {"raw_entries_per_s", raw_rate}, {"daemon_entries", d.entries},
                      {"daemon_pages", d.pages},       {"daemon_bytes", d.bytes},
                      {"daemon_seconds", d.seconds},   {"daemon_entries_per_s", d_rate},
                      {"ratio", d_rate / raw_rate}}
                     .dump()
              << "\n";
    return raw.entries == d.entries ? 0 : 1;
}

// ------------------------------------------------------------ fetch

long rss_kb(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return -1;
}

struct fetcher : std::enable_shared_from_this<fetcher> {
    fetcher(asio::io_context& ioc, std::chrono::milliseconds delay, std::size_t& rows,
            std::size_t& ends)
        : ws_(ioc), timer_(ioc), delay_(delay), rows_(rows), ends_(ends) {}

    void start(tcp::endpoint ep, std::string name, std::string after, int id) {
        fetch_ = json{{"type", "fetch"}, {"stream", name}, {"id", id}, {"after", after}}.dump();
        accepted_ = json{{"type", "accepted"}, {"id", id}}.dump();
        ws_.next_layer().async_connect(ep, [self = shared_from_this()](auto ec) {
            if (ec)
                return self->fail("connect", ec);
            self->ws_.async_handshake("127.0.0.1", "/ws", [self](auto ec2) {
                if (ec2)
                    return self->fail("handshake", ec2);
                self->ws_.async_write(asio::buffer(self->fetch_), [self](auto ec3, std::size_t) {
                    if (ec3)
                        return self->fail("write", ec3);
                    self->read();
                });
            });
        });
    }
    void read() {
        ws_.async_read(in_, [self = shared_from_this()](auto ec, std::size_t) {
            if (ec)
                return self->fail("read", ec);
            const auto text = beast::buffers_to_string(self->in_.data());
            self->in_.consume(self->in_.size());
            if (text.find(R"("type":"row")") == std::string::npos) {
                ++self->ends_;
                std::cerr << "fetch ended: " << text.substr(0, 200) << "\n";
                return;
            }
            ++self->rows_;
            self->timer_.expires_after(self->delay_);
            self->timer_.async_wait([self](auto ec2) {
                if (ec2)
                    return;
                self->ws_.async_write(asio::buffer(self->accepted_), [self](auto ec3, std::size_t) {
                    if (ec3)
                        return self->fail("write", ec3);
                    self->read();
                });
            });
        });
    }
    void stop() {
        timer_.cancel();
        beast::get_lowest_layer(ws_).close();
    }
    void fail(const char* what, beast::error_code ec) {
        if (ec != asio::error::operation_aborted && ec != asio::error::bad_descriptor)
            std::cerr << what << ": " << ec.message() << "\n";
    }

    ws::stream<tcp::socket> ws_;
    asio::steady_timer timer_;
    std::chrono::milliseconds delay_;
    std::size_t& rows_;
    std::size_t& ends_;
    beast::flat_buffer in_;
    std::string fetch_, accepted_;
};

int fetch(const std::map<std::string, std::string>& a) {
    asio::io_context ioc;
    const auto port = static_cast<unsigned short>(std::stoi(arg(a, "port", "8888")));
    const auto n = std::stoul(arg(a, "fetches", "100"));
    const auto spread = std::stoull(arg(a, "spread", "10000"));
    const auto seconds = std::stoi(arg(a, "seconds", "30"));
    const int pid = std::stoi(arg(a, "pid", "0"));
    const std::chrono::milliseconds delay(std::stoi(arg(a, "accept-ms", "5")));
    std::size_t rows = 0, ends = 0;
    std::vector<std::shared_ptr<fetcher>> all;
    const tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), port};
    for (std::size_t i = 0; i < n; ++i) {
        all.push_back(std::make_shared<fetcher>(ioc, delay, rows, ends));
        all.back()->start(ep, arg(a, "name", "h"), std::to_string(i * spread) + "-1",
                          static_cast<int>(i));
    }
    std::vector<long> rss;
    std::vector<std::size_t> rows_at;
    asio::steady_timer sampler(ioc);
    int tick = 0;
    std::function<void()> sample = [&] {
        sampler.expires_after(std::chrono::seconds(1));
        sampler.async_wait([&](auto ec) {
            if (ec)
                return;
            rss.push_back(rss_kb(pid));
            rows_at.push_back(rows);
            if (++tick >= seconds) {
                for (auto& f : all)
                    f->stop();
                return;
            }
            sample();
        });
    };
    sample();
    ioc.run();
    // The first samples are the warm-up (connections, first batches).
    const std::size_t warm = std::min<std::size_t>(3, rss.size());
    long mn = rss.empty() ? 0 : rss[warm], mx = mn;
    for (std::size_t i = warm; i < rss.size(); ++i) {
        mn = std::min(mn, rss[i]);
        mx = std::max(mx, rss[i]);
    }
    std::cout << json{{"rows", rows},
                      {"ended", ends},
                      {"rss_kb", rss},
                      {"rows_at", rows_at},
                      {"warmup_samples", warm},
                      {"rss_first_kb", rss.empty() ? 0 : rss[warm]},
                      {"rss_last_kb", rss.empty() ? 0 : rss.back()},
                      {"rss_min_kb", mn},
                      {"rss_max_kb", mx},
                      {"rss_spread", mn > 0 ? static_cast<double>(mx - mn) / mn : 0.0}}
                     .dump()
              << "\n";
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: history_bench pages|fetch --key value ...\n";
        return 2;
    }
    const std::string mode = argv[1];
    const auto a = args_of(argc, argv);
    try {
        if (mode == "pages")
            return pages(a);
        if (mode == "fetch")
            return fetch(a);
    } catch (const std::exception& e) {
        std::cerr << "history_bench: " << e.what() << "\n";
        return 1;
    }
    std::cerr << "unknown mode " << mode << "\n";
    return 2;
}
