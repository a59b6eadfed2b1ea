// loadgen: the watch load generator of the redis-push-daemon benchmark suite.
//
// One thread, one io_context. It
//   1. (daemon target) seeds RA_D_<id> with a pending value for every task,
//   2. opens N watches spread over source addresses 127.0.0.2..127.0.0.9 and
//      waits until each is established (daemon: response head received;
//      nchan: the server's stub status counts every subscriber),
//   3. optionally holds them (--hold-seconds, or until --go-file exists),
//   4. completes the tasks, all at once or paced at R/s: daemon target through
//      its own pipelined Redis connection (SET RA_D_<id> + PUBLISH RA_SC_<id>),
//      nchan target through the nchan_publisher HTTP location (pipelined POST),
//   5. records per watch the time from its publish being written to its final
//      body being read, and prints one JSON document.
//
// See docs/benchmarks.md for how bench/run uses it.

#include "../common/bench_common.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using bench::cpu_sample;
using bench::k_pending;
using bench::k_value;
using bench::secs;

struct options {
    std::string target = "daemon"; // daemon | nchan
    std::string host = "127.0.0.1";
    unsigned short port = 8888;
    std::size_t count = 1000;
    std::string path = "/task/{id}?watch";
    std::string id_prefix;
    std::string redis_host = "127.0.0.1";
    unsigned short redis_port = 6379;
    std::string prefix = "RA_";
    bool seed = true;
    std::string pub_host = "127.0.0.1";
    unsigned short pub_port = 0;
    std::string pub_path = "/pub?id={id}";
    std::size_t pub_conns = 4;
    std::string stub_path = "/nchan_stub_status";
    std::string publish = "burst"; // burst | paced | none
    double rate = 500;
    std::size_t publish_count = 0; // 0 = all
    std::size_t window = 0;        // in-flight establishments, 0 = unlimited
    std::size_t sources = 8;
    double hold_seconds = 0;
    std::string ready_file;
    std::string go_file;
    double establish_timeout = 120;
    double deliver_timeout = 30;
    std::size_t batch = 256;  // tasks per publish write
    std::string samples_file; // per-watch latencies and connect times, for plots
    double linger_seconds = 0;
    std::string done_file; // written when the run ends, before any linger
};

double ms(clock_type::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

std::string replace_id(std::string tpl, const std::string& id) {
    auto pos = tpl.find("{id}");
    if (pos != std::string::npos)
        tpl.replace(pos, 4, id);
    return tpl;
}

enum class wstate { idle, connecting, waiting_head, held, done, failed };

struct watch {
    std::size_t index = 0;
    std::string id;
    std::optional<tcp::socket> sock;
    beast::flat_buffer buf{16384};
    std::optional<http::response_parser<http::string_body>> parser;
    std::string request;
    wstate state = wstate::idle;
    clock_type::time_point t_start, t_est, t_pub, t_done;
    bool published = false;
    bool selected = false; // one of the watches this run completes
};

class loadgen;

// Completes tasks: one implementation writes RESP to Redis, the other POSTs to nchan.
class publisher {
public:
    virtual ~publisher() = default;
    virtual void start(std::function<void()> on_ready) = 0;
    virtual void send(std::vector<watch*> batch) = 0; // sets t_pub of each when written
    virtual bool idle() const = 0;                    // everything written and answered
    std::size_t replies = 0, errors = 0;
    std::map<std::string, std::size_t> error_kinds;
};

class redis_publisher final : public publisher {
public:
    redis_publisher(asio::io_context& io, tcp::endpoint ep, std::string prefix)
        : sock_(io), ep_(ep), prefix_(std::move(prefix)) {}

    void start(std::function<void()> on_ready) override {
        sock_.async_connect(ep_, [this, on_ready](boost::system::error_code ec) {
            if (ec) {
                std::cerr << "loadgen: redis connect: " << ec.message() << "\n";
                std::exit(2);
            }
            sock_.set_option(tcp::no_delay(true));
            read_loop();
            std::string setname = "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$7\r\nloadgen\r\n";
            expected_ += 1;
            enqueue_raw(std::move(setname), {});
            on_ready();
        });
    }

    // Pipelined SET of the pending value for every id (daemon needs the key to exist).
    void seed(const std::vector<std::unique_ptr<watch>>& ws, std::function<void()> done) {
        std::string out;
        for (auto& w : ws) {
            append_cmd(out, {"SET", prefix_ + "D_" + w->id, k_pending});
            ++expected_;
            if (out.size() > 256 * 1024)
                enqueue_raw(std::move(out), {}), out.clear();
        }
        if (!out.empty())
            enqueue_raw(std::move(out), {});
        on_drained_ = std::move(done);
        check_drained();
    }

    void send(std::vector<watch*> batch) override {
        std::string out;
        for (auto* w : batch) {
            append_cmd(out, {"SET", prefix_ + "D_" + w->id, k_value});
            append_cmd(out, {"PUBLISH", prefix_ + "SC_" + w->id, R"({"status":"done"})"});
            expected_ += 2;
        }
        enqueue_raw(std::move(out), std::move(batch));
    }

    bool idle() const override { return queue_.empty() && !writing_ && replies >= expected_; }

private:
    static void append_cmd(std::string& out, std::initializer_list<std::string_view> args) {
        out += '*' + std::to_string(args.size()) + "\r\n";
        for (auto a : args) {
            out += '$' + std::to_string(a.size()) + "\r\n";
            out.append(a);
            out += "\r\n";
        }
    }
    void enqueue_raw(std::string data, std::vector<watch*> ws) {
        queue_.push_back({std::move(data), std::move(ws)});
        if (!writing_)
            write_next();
    }
    void write_next() {
        if (queue_.empty())
            return;
        writing_ = true;
        auto now = clock_type::now();
        for (auto* w : queue_.front().second)
            w->t_pub = now, w->published = true;
        asio::async_write(sock_, asio::buffer(queue_.front().first),
                          [this](boost::system::error_code ec, std::size_t) {
                              if (ec) {
                                  std::cerr << "loadgen: redis write: " << ec.message() << "\n";
                                  std::exit(2);
                              }
                              writing_ = false;
                              queue_.pop_front();
                              write_next();
                          });
    }
    void read_loop() {
        sock_.async_read_some(asio::buffer(rbuf_),
                              [this](boost::system::error_code ec, std::size_t n) {
                                  if (ec) {
                                      std::cerr << "loadgen: redis read: " << ec.message() << "\n";
                                      std::exit(2);
                                  }
                                  // Every reply we provoke is one line: +OK, :N or -ERR.
                                  for (std::size_t i = 0; i < n; ++i) {
                                      char c = rbuf_[i];
                                      if (at_line_start_ && c == '-')
                                          ++errors, ++error_kinds["redis_error"];
                                      at_line_start_ = (c == '\n');
                                      if (c == '\n')
                                          ++replies;
                                  }
                                  check_drained();
                                  read_loop();
                              });
    }
    void check_drained() {
        if (on_drained_ && queue_.empty() && !writing_ && replies >= expected_) {
            auto f = std::move(on_drained_);
            on_drained_ = nullptr;
            f();
        }
    }

    tcp::socket sock_;
    tcp::endpoint ep_;
    std::string prefix_;
    std::deque<std::pair<std::string, std::vector<watch*>>> queue_;
    bool writing_ = false;
    std::size_t expected_ = 0;
    std::array<char, 65536> rbuf_{};
    bool at_line_start_ = true;
    std::function<void()> on_drained_;
};

// nchan_publisher over a few keep-alive connections, requests pipelined.
class http_publisher final : public publisher {
    struct conn {
        tcp::socket sock;
        beast::flat_buffer buf;
        std::optional<http::response_parser<http::string_body>> parser;
        std::deque<std::pair<std::string, std::vector<watch*>>> queue;
        bool writing = false;
        std::size_t expected = 0, got = 0;
        explicit conn(asio::io_context& io) : sock(io) {}
    };

public:
    http_publisher(asio::io_context& io, tcp::endpoint ep, std::string host, std::string path_tpl,
                   std::size_t n)
        : io_(io), ep_(ep), host_(std::move(host)), tpl_(std::move(path_tpl)),
          n_(std::max<std::size_t>(1, n)) {}

    void start(std::function<void()> on_ready) override {
        auto pending = std::make_shared<std::size_t>(n_);
        for (std::size_t i = 0; i < n_; ++i) {
            conns_.push_back(std::make_unique<conn>(io_));
            auto* c = conns_.back().get();
            c->sock.async_connect(ep_, [this, c, pending, on_ready](boost::system::error_code ec) {
                if (ec) {
                    std::cerr << "loadgen: publisher connect: " << ec.message() << "\n";
                    std::exit(2);
                }
                c->sock.set_option(tcp::no_delay(true));
                read_loop(c);
                if (--*pending == 0)
                    on_ready();
            });
        }
    }

    void send(std::vector<watch*> batch) override {
        auto* c = conns_[next_++ % conns_.size()].get();
        std::string out;
        for (auto* w : batch) {
            out += "POST " + replace_id(tpl_, w->id) + " HTTP/1.1\r\nHost: " + host_ +
                   "\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(k_value.size()) + "\r\n\r\n" + k_value;
            ++c->expected;
            ++expected_;
        }
        c->queue.push_back({std::move(out), std::move(batch)});
        if (!c->writing)
            write_next(c);
    }

    bool idle() const override { return replies >= expected_; }

private:
    void write_next(conn* c) {
        if (c->queue.empty())
            return;
        c->writing = true;
        auto now = clock_type::now();
        for (auto* w : c->queue.front().second)
            w->t_pub = now, w->published = true;
        asio::async_write(c->sock, asio::buffer(c->queue.front().first),
                          [this, c](boost::system::error_code ec, std::size_t) {
                              if (ec) {
                                  std::cerr << "loadgen: publisher write: " << ec.message() << "\n";
                                  std::exit(2);
                              }
                              c->writing = false;
                              c->queue.pop_front();
                              write_next(c);
                          });
    }
    void read_loop(conn* c) {
        c->parser.emplace();
        c->parser->body_limit(1 << 20);
        http::async_read(
            c->sock, c->buf, *c->parser, [this, c](boost::system::error_code ec, std::size_t) {
                if (ec) {
                    if (expected_ > replies)
                        std::cerr << "loadgen: publisher read: " << ec.message() << "\n";
                    return;
                }
                ++replies;
                ++c->got;
                auto st = c->parser->get().result_int();
                if (st < 200 || st > 299)
                    ++errors, ++error_kinds["pub_http_" + std::to_string(st)];
                read_loop(c);
            });
    }

    asio::io_context& io_;
    tcp::endpoint ep_;
    std::string host_, tpl_;
    std::size_t n_;
    std::vector<std::unique_ptr<conn>> conns_;
    std::size_t next_ = 0, expected_ = 0;
};

class loadgen {
public:
    explicit loadgen(options o) : o_(std::move(o)), est_timer_(io_), pace_timer_(io_), tick_(io_) {
        server_ = tcp::endpoint(asio::ip::make_address(o_.host), o_.port);
        for (std::size_t i = 0; i < o_.sources; ++i)
            sources_.push_back(asio::ip::make_address_v4("127.0.0." + std::to_string(2 + i)));
        if (o_.id_prefix.empty()) {
            std::random_device rd;
            o_.id_prefix = "lg" + std::to_string(rd() % 1000000) + "_";
        }
        for (std::size_t i = 0; i < o_.count; ++i) {
            auto w = std::make_unique<watch>();
            w->index = i;
            w->id = o_.id_prefix + std::to_string(i);
            watches_.push_back(std::move(w));
        }
        if (o_.publish_count == 0 || o_.publish_count > o_.count)
            o_.publish_count = o_.count;
    }

    int run() {
        t0_ = clock_type::now();
        cpu0_ = cpu_sample::now();
        if (o_.target == "daemon") {
            auto rp = std::make_unique<redis_publisher>(
                io_, tcp::endpoint(asio::ip::make_address(o_.redis_host), o_.redis_port),
                o_.prefix);
            auto* raw = rp.get();
            pub_ = std::move(rp);
            pub_->start([this, raw] {
                if (o_.seed)
                    raw->seed(watches_, [this] { begin_connect(); });
                else
                    begin_connect();
            });
        } else {
            pub_ =
                std::make_unique<http_publisher>(io_,
                                                 tcp::endpoint(asio::ip::make_address(o_.pub_host),
                                                               o_.pub_port ? o_.pub_port : o_.port),
                                                 o_.pub_host, o_.pub_path, o_.pub_conns);
            // The publisher connects only when publishing starts: nginx closes a
            // connection that sends no request within client_header_timeout.
            stub_baseline([this] { begin_connect(); });
        }
        io_.run();
        report();
        return 0;
    }

private:
    // ---------------------------------------------------------------- phase 2
    void begin_connect() {
        t_connect0_ = clock_type::now();
        cpu_connect0_ = cpu_sample::now();
        std::size_t first = o_.window ? std::min(o_.window, watches_.size()) : watches_.size();
        for (std::size_t i = 0; i < first; ++i)
            start_watch();
        est_timer_.expires_after(std::chrono::duration_cast<clock_type::duration>(
            std::chrono::duration<double>(o_.establish_timeout)));
        est_timer_.async_wait([this](boost::system::error_code ec) {
            if (ec)
                return;
            std::cerr << "loadgen: establish timeout: " << established_ << "/" << watches_.size()
                      << "\n";
            establish_timed_out_ = true;
            all_established();
        });
        if (o_.target == "nchan")
            poll_stub();
    }

    void start_watch() {
        if (next_watch_ >= watches_.size())
            return;
        watch* w = watches_[next_watch_++].get();
        w->t_start = clock_type::now();
        w->state = wstate::connecting;
        w->sock.emplace(io_);
        boost::system::error_code ec;
        w->sock->open(tcp::v4(), ec);
        if (!ec) {
            int one = 1;
            ::setsockopt(w->sock->native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                         sizeof one);
            w->sock->bind(tcp::endpoint(sources_[w->index % sources_.size()], 0), ec);
        }
        if (ec)
            return fail(w, "socket_" + ec.message());
        w->sock->async_connect(server_, [this, w](boost::system::error_code ec) {
            if (ec)
                return fail(w, "connect_error");
            w->sock->set_option(tcp::no_delay(true));
            w->request =
                "GET " + replace_id(o_.path, w->id) + " HTTP/1.1\r\nHost: " + o_.host + "\r\n\r\n";
            asio::async_write(*w->sock, asio::buffer(w->request),
                              [this, w](boost::system::error_code ec, std::size_t) {
                                  std::string().swap(w->request);
                                  if (ec)
                                      return fail(w, "write_error");
                                  w->parser.emplace();
                                  w->parser->body_limit(1 << 20);
                                  w->state = wstate::waiting_head;
                                  if (o_.target == "daemon") {
                                      http::async_read_header(
                                          *w->sock, w->buf, *w->parser,
                                          [this, w](boost::system::error_code ec, std::size_t) {
                                              on_head(w, ec);
                                          });
                                  } else {
                                      // nchan long-poll sends nothing until the message:
                                      // established is judged from the stub status, the read runs
                                      // to the final body.
                                      read_body(w);
                                      if (o_.window)
                                          start_watch(); // window only bounds connect+request here
                                  }
                              });
        });
    }

    void on_head(watch* w, boost::system::error_code ec) {
        if (ec)
            return fail(w, ec == http::error::end_of_stream || ec == asio::error::eof
                               ? "closed_before_head"
                               : "read_error_head");
        auto st = w->parser->get().result_int();
        if (st != 200) {
            // Read the (short) error body, then count it.
            http::async_read(*w->sock, w->buf, *w->parser,
                             [this, w, st](boost::system::error_code, std::size_t) {
                                 fail(w, "http_" + std::to_string(st));
                             });
            return;
        }
        w->t_est = clock_type::now();
        w->state = wstate::held;
        ++established_;
        connect_ms_.push_back(ms(w->t_est - w->t_start));
        last_est_ = w->t_est;
        if (o_.window)
            start_watch();
        if (w->parser->is_done())
            return on_body(w, {});
        read_body(w);
        check_established();
    }

    void read_body(watch* w) {
        http::async_read(*w->sock, w->buf, *w->parser,
                         [this, w](boost::system::error_code ec, std::size_t) { on_body(w, ec); });
    }

    void on_body(watch* w, boost::system::error_code ec) {
        if (ec) {
            bool eof = ec == http::error::end_of_stream || ec == asio::error::eof ||
                       ec == http::error::partial_message;
            return fail(
                w, eof ? (w->state == wstate::held ? "closed_while_held" : "closed_before_body")
                       : "read_error_body");
        }
        auto now = clock_type::now();
        auto& res = w->parser->get();
        if (o_.target == "nchan" && res.result_int() != 200)
            return fail(w, "http_" + std::to_string(res.result_int()));
        std::string_view body = res.body();
        while (!body.empty() &&
               (body.front() == '\n' || body.front() == '\r' || body.front() == ' '))
            body.remove_prefix(1);
        if (body.find("Killed due to another") != std::string_view::npos)
            return fail(w, "killed");
        if (body.find("timed out") != std::string_view::npos)
            return fail(w, "watch_timed_out");
        if (body.find("shutting down") != std::string_view::npos)
            return fail(w, "server_shutting_down");
        if (!w->published)
            return fail(w, "delivered_before_publish");
        if (body != k_value)
            return fail(w, "unexpected_body");
        w->t_done = now;
        w->state = wstate::done;
        if (w->selected)
            --outstanding_;
        ++delivered_;
        last_done_ = std::max(last_done_, now);
        // Keep the connection open (keep-alive) but drop per-watch buffers.
        w->parser.reset();
        check_delivered();
    }

    void fail(watch* w, const std::string& kind) {
        bool was_pending = w->state == wstate::connecting || w->state == wstate::waiting_head;
        bool was_held = w->state == wstate::held;
        w->state = wstate::failed;
        ++errors_[kind];
        ++failed_;
        if (w->sock) {
            boost::system::error_code ig;
            w->sock->close(ig);
        }
        w->parser.reset();
        if (was_pending && o_.window && o_.target == "daemon")
            start_watch();
        if (was_held && w->published)
            ++failed_after_publish_;
        if (was_held && w->selected)
            --outstanding_;
        check_established();
        check_delivered();
    }

    void check_established() {
        if (phase_ != 0)
            return;
        if (o_.target == "daemon" && established_ + failed_ >= watches_.size())
            all_established();
    }

    // nchan: stub status -> "subscribers: N"
    void stub_get(std::function<void(long)> cb) {
        auto s = std::make_shared<tcp::socket>(io_);
        auto req =
            std::make_shared<std::string>("GET " + o_.stub_path + " HTTP/1.1\r\nHost: " + o_.host +
                                          "\r\nConnection: close\r\n\r\n");
        auto b = std::make_shared<beast::flat_buffer>();
        auto res = std::make_shared<http::response<http::string_body>>();
        s->async_connect(
            tcp::endpoint(asio::ip::make_address(o_.pub_host), o_.pub_port ? o_.pub_port : o_.port),
            [=, this](boost::system::error_code ec) {
                if (ec) {
                    std::cerr << "loadgen: stub connect: " << ec.message() << "\n";
                    return cb(-1);
                }
                asio::async_write(*s, asio::buffer(*req),
                                  [s, b, res, cb, req](boost::system::error_code ec, std::size_t) {
                                      if (ec)
                                          return cb(-1);
                                      http::async_read(*s, *b, *res,
                                                       [s, b, res, cb](boost::system::error_code ec,
                                                                       std::size_t) {
                                                           if (ec) {
                                                               std::cerr << "loadgen: stub read: "
                                                                         << ec.message() << "\n";
                                                               return cb(-1);
                                                           }
                                                           auto& body = res->body();
                                                           auto p = body.find("subscribers:");
                                                           if (p == std::string::npos)
                                                               return cb(-1);
                                                           cb(std::atol(body.c_str() + p + 12));
                                                       });
                                  });
            });
    }
    void stub_baseline(std::function<void()> next) {
        stub_get([this, next](long n) {
            if (n < 0) {
                std::cerr << "loadgen: cannot read " << o_.stub_path << "\n";
                std::exit(2);
            }
            stub_base_ = n;
            next();
        });
    }
    void poll_stub() {
        if (phase_ != 0)
            return;
        tick_.expires_after(std::chrono::milliseconds(20));
        tick_.async_wait([this](boost::system::error_code ec) {
            if (ec || phase_ != 0)
                return;
            stub_get([this](long n) {
                if (phase_ != 0)
                    return;
                if (n >= 0) {
                    long have = n - stub_base_;
                    if (have > static_cast<long>(established_)) {
                        established_ = static_cast<std::size_t>(have);
                        last_est_ = clock_type::now();
                    }
                    if (established_ + failed_ >= watches_.size())
                        return all_established();
                }
                poll_stub();
            });
        });
    }

    // ---------------------------------------------------------------- phase 3
    void all_established() {
        if (phase_ != 0)
            return;
        phase_ = 1;
        est_timer_.cancel();
        t_established_ = clock_type::now();
        cpu_established_ = cpu_sample::now();
        if (o_.target ==
            "nchan") // established per the stub status: every request in flight is held
            for (auto& w : watches_)
                if (w->state == wstate::waiting_head)
                    w->state = wstate::held;
        if (!o_.ready_file.empty()) {
            std::ofstream(o_.ready_file) << established_ << "\n";
        }
        std::cerr << "loadgen: established " << established_ << "/" << watches_.size() << " in "
                  << (established_ ? secs(last_est_ - t_connect0_) : 0.0) << " s\n";
        if (!o_.go_file.empty())
            wait_go();
        else if (o_.hold_seconds > 0) {
            pace_timer_.expires_after(std::chrono::duration_cast<clock_type::duration>(
                std::chrono::duration<double>(o_.hold_seconds)));
            pace_timer_.async_wait([this](boost::system::error_code) { begin_publish(); });
        } else
            begin_publish();
    }
    void wait_go() {
        if (std::filesystem::exists(o_.go_file))
            return begin_publish();
        pace_timer_.expires_after(std::chrono::milliseconds(50));
        pace_timer_.async_wait([this](boost::system::error_code) { wait_go(); });
    }

    // ---------------------------------------------------------------- phase 4
    void begin_publish() {
        if (o_.target == "nchan" && !pub_started_) {
            pub_started_ = true;
            pub_->start([this] { begin_publish(); });
            return;
        }
        phase_ = 2;
        t_hold_end_ = clock_type::now();
        cpu_publish0_ = cpu_sample::now();
        for (auto& w : watches_)
            if (w->state == wstate::held && to_publish_.size() < o_.publish_count)
                to_publish_.push_back(w.get());
        if (o_.publish == "none")
            to_publish_.clear();
        for (auto* w : to_publish_)
            w->selected = true;
        outstanding_ = to_publish_.size();
        t_pub0_ = clock_type::now();
        if (o_.publish == "paced")
            pace();
        else {
            for (std::size_t i = 0; i < to_publish_.size(); i += o_.batch)
                pub_->send(std::vector<watch*>(to_publish_.begin() + i,
                                               to_publish_.begin() +
                                                   std::min(i + o_.batch, to_publish_.size())));
            pub_sent_ = to_publish_.size();
        }
        arm_deliver_deadline();
        check_delivered();
    }
    void pace() {
        auto now = clock_type::now();
        auto due = static_cast<std::size_t>(secs(now - t_pub0_) * o_.rate) + 1;
        due = std::min(due, to_publish_.size());
        if (due > pub_sent_) {
            pub_->send(
                std::vector<watch*>(to_publish_.begin() + pub_sent_, to_publish_.begin() + due));
            pub_sent_ = due;
        }
        if (pub_sent_ >= to_publish_.size())
            return;
        auto next =
            t_pub0_ + std::chrono::duration_cast<clock_type::duration>(
                          std::chrono::duration<double>(static_cast<double>(pub_sent_) / o_.rate));
        pace_timer_.expires_at(next);
        pace_timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec)
                pace();
        });
    }
    void arm_deliver_deadline() {
        double budget =
            o_.deliver_timeout + (o_.publish == "paced" ? to_publish_.size() / o_.rate : 0);
        est_timer_.expires_after(std::chrono::duration_cast<clock_type::duration>(
            std::chrono::duration<double>(budget)));
        est_timer_.async_wait([this](boost::system::error_code ec) {
            if (ec)
                return;
            finish(true);
        });
    }
    void check_delivered() {
        if (phase_ != 2 || pub_sent_ < to_publish_.size())
            return;
        if (outstanding_ == 0)
            finish(false);
    }
    void finish(bool deadline) {
        if (phase_ == 3)
            return;
        phase_ = 3;
        t_end_ = clock_type::now();
        cpu_end_ = cpu_sample::now();
        if (deadline)
            for (auto* w : to_publish_)
                if (w->state == wstate::held)
                    ++errors_["not_delivered"], w->state = wstate::failed;
        // Stop everything: closing the sockets ends every pending operation.
        est_timer_.cancel();
        pace_timer_.cancel();
        tick_.cancel();
        if (!o_.done_file.empty())
            std::ofstream(o_.done_file) << delivered_ << "\n";
        if (o_.linger_seconds > 0) {
            // Keep every connection open a while (profiling the server without its teardown).
            tick_.expires_after(std::chrono::duration_cast<clock_type::duration>(
                std::chrono::duration<double>(o_.linger_seconds)));
            tick_.async_wait([this](boost::system::error_code) { io_.stop(); });
            return;
        }
        io_.stop();
    }

    // ---------------------------------------------------------------- report
    static json pct(std::vector<double> v) {
        if (v.empty())
            return json(nullptr);
        std::sort(v.begin(), v.end());
        auto at = [&](double p) {
            auto i = static_cast<std::size_t>(std::ceil(p / 100.0 * v.size()));
            return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
        };
        double sum = 0;
        for (double x : v)
            sum += x;
        return {{"p50", at(50)},   {"p90", at(90)},    {"p99", at(99)},
                {"max", v.back()}, {"min", v.front()}, {"mean", sum / v.size()}};
    }

    void report() {
        if (phase_ < 3) {
            t_end_ = clock_type::now();
            cpu_end_ = cpu_sample::now();
        }
        std::vector<double> lat;
        clock_type::time_point first_pub = clock_type::time_point::max();
        for (auto& w : watches_) {
            if (w->published)
                first_pub = std::min(first_pub, w->t_pub);
            if (w->state == wstate::done)
                lat.push_back(ms(w->t_done - w->t_pub));
        }
        std::size_t errs = 0;
        for (auto& [k, v] : errors_)
            errs += v;
        json errors = errors_;
        for (auto& [k, v] : pub_->error_kinds)
            errors[k] = v, errs += v;
        double connect_s = established_ ? secs(last_est_ - t_connect0_) : 0;
        json j;
        j["target"] = o_.target;
        j["count"] = o_.count;
        j["held"] = established_;
        j["published"] = to_publish_.size();
        j["delivered"] = delivered_;
        j["errors_total"] = errs;
        j["errors"] = errors;
        j["connect"] = {{"seconds", connect_s},
                        {"rate_per_s", connect_s > 0 ? established_ / connect_s : 0.0},
                        {"window", o_.window},
                        {"per_watch_ms", pct(connect_ms_)}};
        j["latency_ms"] = pct(lat);
        j["all_delivered_ms"] = (delivered_ && first_pub != clock_type::time_point::max())
                                    ? json(ms(last_done_ - first_pub))
                                    : json(nullptr);
        j["publish"] = {{"mode", o_.publish},
                        {"rate", o_.publish == "paced" ? json(o_.rate) : json(nullptr)},
                        {"replies", pub_->replies}};
        auto c_est = cpu_established_.total() ? cpu_established_ : cpu_end_;
        j["loadgen_cpu_s"] = {
            {"total", cpu_end_.total() - cpu0_.total()},
            {"user", cpu_end_.user - cpu0_.user},
            {"sys", cpu_end_.sys - cpu0_.sys},
            {"connect_phase", c_est.total() - cpu_connect0_.total()},
            {"publish_phase", phase_ >= 2 ? cpu_end_.total() - cpu_publish0_.total() : 0.0}};
        double pub_wall = phase_ >= 2 ? secs(t_end_ - t_hold_end_) : 0;
        j["wall_s"] = {
            {"total", secs(t_end_ - t0_)},
            {"connect_phase", secs((phase_ >= 1 ? t_established_ : t_end_) - t_connect0_)},
            {"publish_phase", pub_wall}};
        // Share of one core the loadgen used while connecting and while delivering:
        // near 1.0 would mean the loadgen itself was the bottleneck.
        double cw = secs((phase_ >= 1 ? t_established_ : t_end_) - t_connect0_);
        j["loadgen_core_share"] = {
            {"connect_phase", cw > 0 ? (c_est.total() - cpu_connect0_.total()) / cw : 0.0},
            {"publish_phase",
             pub_wall > 0 ? (cpu_end_.total() - cpu_publish0_.total()) / pub_wall : 0.0}};
        j["id_prefix"] = o_.id_prefix;
        if (!o_.samples_file.empty()) {
            // "latency_ms connect_ms" per line, each column sorted on its own (CDF input).
            std::sort(lat.begin(), lat.end());
            auto con = connect_ms_;
            std::sort(con.begin(), con.end());
            std::ofstream f(o_.samples_file);
            f << "# latency_ms connect_ms (each sorted)\n";
            for (std::size_t i = 0; i < std::max(lat.size(), con.size()); ++i)
                f << (i < lat.size() ? std::to_string(lat[i]) : "NaN") << ' '
                  << (i < con.size() ? std::to_string(con[i]) : "NaN") << '\n';
        }
        std::cout << j.dump(2) << std::endl;
    }

    options o_;
    asio::io_context io_{1};
    tcp::endpoint server_;
    std::vector<asio::ip::address_v4> sources_;
    std::vector<std::unique_ptr<watch>> watches_;
    std::unique_ptr<publisher> pub_;
    asio::steady_timer est_timer_, pace_timer_, tick_;
    std::size_t next_watch_ = 0, established_ = 0, delivered_ = 0, failed_ = 0,
                failed_after_publish_ = 0;
    std::map<std::string, std::size_t> errors_;
    std::vector<double> connect_ms_;
    std::vector<watch*> to_publish_;
    std::size_t pub_sent_ = 0, outstanding_ = 0;
    long stub_base_ = 0;
    int phase_ = 0; // 0 connecting, 1 holding, 2 publishing, 3 finished
    bool establish_timed_out_ = false;
    bool pub_started_ = false;
    clock_type::time_point t0_, t_connect0_, last_est_, t_established_, t_hold_end_, t_pub0_,
        last_done_, t_end_;
    cpu_sample cpu0_, cpu_connect0_, cpu_established_, cpu_publish0_, cpu_end_;
};

void usage() {
    std::cout <<
        R"(loadgen: open N watches, hold them, complete the tasks, report JSON.
  (loadgen stream --help: the stream subscribers of issue 10)
  (loadgen queue --help: the queue consumers of issue 11)
  --target daemon|nchan       server kind (default daemon)
  --host H --port P           server (default 127.0.0.1:8888)
  --count N                   watches to open (default 1000)
  --path TPL                  request path, {id} replaced (daemon: /task/{id}?watch; nchan: /sub/{id})
  --id-prefix S               task id prefix (default random)
  --redis-host H --redis-port P --prefix RA_   (daemon target) Redis used to seed and publish
  --no-seed                   do not SET the pending value before watching
  --pub-host H --pub-port P --pub-path TPL --pub-conns K   (nchan target) HTTP publisher
  --stub-path PATH            (nchan target) nchan_stub_status location
  --publish burst|paced|none  how to complete the tasks (default burst)
  --rate R                    paced: completions per second (default 500)
  --publish-count M           complete only the first M held watches (default all)
  --window W                  at most W establishments in flight (default 0 = all at once)
  --sources K                 source addresses 127.0.0.2.. (default 8)
  --hold-seconds S            hold this long once all are established
  --ready-file F              write F once all are established
  --go-file F                 wait until F exists before publishing
  --establish-timeout S       default 120
  --deliver-timeout S         default 30 (plus the pacing time)
  --batch B                   tasks per publish write (default 256)
  --samples-file F            write per-watch latency and connect times (sorted) to F
  --linger-seconds S          keep the connections open S seconds after the end
  --done-file F               write F when the run ends (before the linger)
)";
}

} // namespace

namespace stream {
int main(int argc, char** argv); // stream_main.cpp: `loadgen stream --help`
}
namespace qbench {
int main(int argc, char** argv); // queue_main.cpp: `loadgen queue --help`
}

int main(int argc, char** argv) {
    if (argc > 1 && std::string_view(argv[1]) == "stream")
        return stream::main(argc - 1, argv + 1);
    if (argc > 1 && std::string_view(argv[1]) == "queue")
        return qbench::main(argc - 1, argv + 1);
    options o;
    bool path_set = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "loadgen: " << a << " needs a value\n";
                std::exit(64);
            }
            return argv[++i];
        };
        if (a == "--help" || a == "-h")
            return usage(), 0;
        else if (a == "--target")
            o.target = val();
        else if (a == "--host")
            o.host = val();
        else if (a == "--port")
            o.port = static_cast<unsigned short>(std::stoi(val()));
        else if (a == "--count")
            o.count = std::stoul(val());
        else if (a == "--path")
            o.path = val(), path_set = true;
        else if (a == "--id-prefix")
            o.id_prefix = val();
        else if (a == "--redis-host")
            o.redis_host = val();
        else if (a == "--redis-port")
            o.redis_port = static_cast<unsigned short>(std::stoi(val()));
        else if (a == "--prefix")
            o.prefix = val();
        else if (a == "--no-seed")
            o.seed = false;
        else if (a == "--pub-host")
            o.pub_host = val();
        else if (a == "--pub-port")
            o.pub_port = static_cast<unsigned short>(std::stoi(val()));
        else if (a == "--pub-path")
            o.pub_path = val();
        else if (a == "--pub-conns")
            o.pub_conns = std::stoul(val());
        else if (a == "--stub-path")
            o.stub_path = val();
        else if (a == "--publish")
            o.publish = val();
        else if (a == "--rate")
            o.rate = std::stod(val());
        else if (a == "--publish-count")
            o.publish_count = std::stoul(val());
        else if (a == "--window")
            o.window = std::stoul(val());
        else if (a == "--sources")
            o.sources = std::max<std::size_t>(1, std::stoul(val()));
        else if (a == "--hold-seconds")
            o.hold_seconds = std::stod(val());
        else if (a == "--ready-file")
            o.ready_file = val();
        else if (a == "--go-file")
            o.go_file = val();
        else if (a == "--establish-timeout")
            o.establish_timeout = std::stod(val());
        else if (a == "--deliver-timeout")
            o.deliver_timeout = std::stod(val());
        else if (a == "--samples-file")
            o.samples_file = val();
        else if (a == "--linger-seconds")
            o.linger_seconds = std::stod(val());
        else if (a == "--done-file")
            o.done_file = val();
        else if (a == "--batch")
            o.batch = std::max<std::size_t>(1, std::stoul(val()));
        else {
            std::cerr << "loadgen: unknown option " << a << "\n";
            usage();
            return 64;
        }
    }
    if (o.target != "daemon" && o.target != "nchan") {
        std::cerr << "loadgen: --target must be daemon or nchan\n";
        return 64;
    }
    if (o.publish != "burst" && o.publish != "paced" && o.publish != "none") {
        std::cerr << "loadgen: --publish must be burst, paced or none\n";
        return 64;
    }
    if (o.target == "nchan" && !path_set)
        o.path = "/sub/{id}";
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    std::signal(SIGPIPE, SIG_IGN);
    return loadgen(std::move(o)).run();
}
