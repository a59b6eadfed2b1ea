// soak: a million watch lifecycles against redis-push-daemon, then leak figures.
//
// One thread, one io_context, event driven. C slots run concurrently; each
// slot runs one scenario after another until the phase has started its
// lifecycles (one lifecycle = one watch request):
//   completed  SET RA_D_<id> pending; GET /task/<id>?watch; once the head
//              arrives SET RA_D_<id> <value> + PUBLISH RA_SC_<id> done;
//              expect the value as the body;
//   killed     two lifecycles: watch A on <id>, then watch B on the same id
//              over a second connection: A must end with the "Killed ..."
//              error, B is then completed like above (expected: delivered);
//   abandoned  the client closes the connection once the head arrived
//              (half with FIN, half with RST): nothing to read, the daemon
//              must release everything (checked through the gauges at the end);
//   timed_out  nothing is published: the daemon (watch.timeout_seconds: 1)
//              must end the watch with "Watch timed out".
// Every lifecycle has a unique task id. Connections are kept alive and reused
// for the next scenario of the slot, except a share that is closed after a
// lifecycle (and every abandoned one), so connects and closes are exercised too.
// At most --fast-inflight completed/killed/abandoned scenarios run at once, so
// queueing on a loaded machine does not push them past the 1 s timeout.
//
// Phases: a warm-up (W lifecycles), quiesce, baseline snapshot, the soak
// (N lifecycles, a timeline sample every second), quiesce, final snapshot.
// Quiesce = every client connection closed, then wait until the daemon's
// gauges (watches_active, channels_subscribed, connections_open) and the task
// channels Redis has subscribers for (PUBSUB CHANNELS RA_SC_*) are back to zero
// (the daemon keeps a channel subscribed for 1 s after its last watch left),
// then settle a few seconds. A snapshot: daemon VmRSS/VmHWM, open fds
// (/proc/<pid>/fd), /metrics gauges and watch outcome counters, the task
// channels in Redis and every channel with subscribers (Redis has no PUBSUB
// NUMCHANNELS; the daemon's health-probe channel is the one non-task channel),
// Redis used_memory, CPU times. Prints one JSON document; bench/soak/run judges
// it. See docs/reliability-soak.md.

#include "../common/bench_common.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <hiredis/hiredis.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using bench::k_pending;
using bench::k_value;
using bench::secs;

const std::string k_done_msg = R"({"status":"done"})";
const std::string k_killed =
    R"({"status":"error","error_message":"Killed due to another concurrent request for this task"})";
const std::string k_timed_out = R"({"status":"error","error_message":"Watch timed out"})";

struct options {
    std::string host = "127.0.0.1";
    unsigned short port = 8888;
    std::string redis_host = "127.0.0.1";
    unsigned short redis_port = 6379;
    std::string prefix = "RA_";
    int daemon_pid = 0;
    int redis_pid = 0;
    std::size_t lifecycles = 1000000;
    std::size_t warmup = 50000;
    std::size_t concurrency = 3000;
    std::size_t fast_inflight = 400; // completed/killed/abandoned scenarios in flight at most
    std::vector<double> mix{45, 15, 25,
                            15};  // scenario weights: completed killed abandoned timed_out
    double reconnect_share = 0.3; // connections closed after a lifecycle
    double rst_share = 0.5;       // abandoned by RST instead of FIN
    std::size_t sources = 16;     // source addresses 127.0.0.2..
    double stuck_seconds = 15;
    // More than one memory_trimmer sample (5 s): after a peak the daemon
    // gives its free heap back within one sample of going idle, and a
    // snapshot before that would measure the moment, not the state.
    double settle_seconds = 6;
    double quiesce_timeout = 60;
    double idle_reuse_seconds = 20; // reconnect a connection idle longer than this
    unsigned seed = 1;
    std::string id_prefix;
    std::string progress_file;
    std::string
        snapshot_hook; // run (blocking) at each snapshot with the label, after VmRSS is read
};

double proc_cpu_s(int pid) {
    if (pid <= 0)
        return 0;
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(f)), {});
    auto p = s.rfind(')');
    if (p == std::string::npos)
        return 0;
    std::istringstream in(s.substr(p + 2));
    std::string x;
    long ut = 0, st = 0;
    for (int i = 3; i <= 15 && in >> x; ++i) {
        if (i == 14)
            ut = std::stol(x);
        if (i == 15)
            st = std::stol(x);
    }
    return double(ut + st) / double(sysconf(_SC_CLK_TCK));
}

long proc_status_kb(int pid, const std::string& key) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind(key + ":", 0) == 0)
            return std::atol(line.c_str() + key.size() + 1);
    return -1;
}

// What the open fds are: "socket", "anon_inode:[eventfd]", "/dev/null"...
json fd_kinds(int pid) {
    std::map<std::string, int> kinds;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        std::error_code e2;
        auto target = std::filesystem::read_symlink(it->path(), e2).string();
        if (target.rfind("socket:", 0) == 0)
            target = "socket";
        ++kinds[target];
    }
    return kinds;
}

long proc_fds(int pid) {
    std::error_code ec;
    long n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return ec ? -1 : n;
}

json percentiles(std::vector<float>& v) {
    if (v.empty())
        return nullptr;
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
        return v[std::min(v.size() - 1, static_cast<std::size_t>(q * double(v.size())))];
    };
    return {{"n", v.size()},
            {"p50_ms", at(0.50)},
            {"p99_ms", at(0.99)},
            {"p999_ms", at(0.999)},
            {"max_ms", v.back()}};
}

// --------------------------------------------------------------------------
// One Redis connection, commands pipelined: every command is appended to the
// output buffer and written with whatever else queued up meanwhile; replies
// are parsed with hiredis's reader and handed to the callbacks in order.
class redis_pipe {
public:
    using callback = std::function<void(redisReply*)>;
    explicit redis_pipe(asio::io_context& io) : sock_(io), reader_(redisReaderCreate()) {}
    ~redis_pipe() { redisReaderFree(reader_); }

    void connect(const tcp::endpoint& ep) {
        sock_.connect(ep);
        sock_.set_option(tcp::no_delay(true));
        read_loop();
    }

    void command(std::initializer_list<std::string_view> args, callback cb = {}) {
        const char* argv[8];
        std::size_t lens[8];
        int n = 0;
        for (auto a : args)
            argv[n] = a.data(), lens[n] = a.size(), ++n;
        char* cmd = nullptr;
        int len = redisFormatCommandArgv(&cmd, n, argv, lens);
        if (len < 0) {
            std::cerr << "soak: redisFormatCommandArgv failed\n";
            std::exit(2);
        }
        out_.append(cmd, static_cast<std::size_t>(len));
        redisFreeCommand(cmd);
        callbacks_.push_back(std::move(cb));
        ++commands;
        if (!writing_)
            flush();
    }

    std::size_t commands = 0, error_replies = 0;

private:
    void flush() {
        if (out_.empty())
            return;
        writing_ = true;
        wbuf_.swap(out_);
        asio::async_write(sock_, asio::buffer(wbuf_),
                          [this](boost::system::error_code ec, std::size_t) {
                              if (ec) {
                                  std::cerr << "soak: redis write: " << ec.message() << "\n";
                                  std::exit(2);
                              }
                              wbuf_.clear();
                              writing_ = false;
                              flush();
                          });
    }
    void read_loop() {
        sock_.async_read_some(asio::buffer(rbuf_),
                              [this](boost::system::error_code ec, std::size_t n) {
                                  if (ec) {
                                      std::cerr << "soak: redis read: " << ec.message() << "\n";
                                      std::exit(2);
                                  }
                                  if (redisReaderFeed(reader_, rbuf_.data(), n) != REDIS_OK) {
                                      std::cerr << "soak: redis protocol error\n";
                                      std::exit(2);
                                  }
                                  for (;;) {
                                      void* r = nullptr;
                                      if (redisReaderGetReply(reader_, &r) != REDIS_OK) {
                                          std::cerr << "soak: redis protocol error\n";
                                          std::exit(2);
                                      }
                                      if (!r)
                                          break;
                                      auto* reply = static_cast<redisReply*>(r);
                                      if (reply->type == REDIS_REPLY_ERROR)
                                          ++error_replies;
                                      auto cb = std::move(callbacks_.front());
                                      callbacks_.pop_front();
                                      if (cb)
                                          cb(reply);
                                      freeReplyObject(reply);
                                  }
                                  read_loop();
                              });
    }

    tcp::socket sock_;
    redisReader* reader_;
    std::string out_, wbuf_;
    bool writing_ = false;
    std::deque<callback> callbacks_;
    std::array<char, 65536> rbuf_{};
};

// --------------------------------------------------------------------------
enum class scenario { completed, killed, abandoned, timed_out };
enum class outcome { delivered, killed, abandoned, timed_out, other };
const char* name(outcome o) {
    switch (o) {
    case outcome::delivered:
        return "completed";
    case outcome::killed:
        return "killed";
    case outcome::abandoned:
        return "abandoned";
    case outcome::timed_out:
        return "timed_out";
    default:
        return "other";
    }
}

struct conn {
    std::optional<tcp::socket> sock;
    beast::flat_buffer buf{8192};
    std::optional<http::response_parser<http::string_body>> parser;
    std::string req;
    clock_type::time_point last_used, t_head;
    bool open = false;
};

struct slot {
    std::size_t index = 0;
    conn c[2]; // c[0]: the watch of every scenario; c[1]: the killer of a killed scenario
    scenario kind = scenario::completed;
    std::string id;
    int pending = 0; // watches of this scenario not finished yet
    bool active = false, stuck = false, queued = false;
    clock_type::time_point t_start;
};

struct phase_stats {
    std::string name;
    std::size_t target = 0, started = 0, finished = 0, scenarios = 0, established = 0;
    std::size_t connects = 0, closes_fin = 0, closes_rst = 0;
    std::map<std::string, std::size_t> ok, mismatch, errors;
    std::vector<float> lat[4]; // ms from head to body (abandoned: unused)
    clock_type::time_point t0, t1;
    double cpu_own0 = 0, cpu_own1 = 0, cpu_d0 = 0, cpu_d1 = 0, cpu_r0 = 0, cpu_r1 = 0;
    std::size_t failures() const {
        std::size_t n = 0;
        for (auto& [k, v] : mismatch)
            n += v;
        for (auto& [k, v] : errors)
            n += v;
        return n;
    }
};

struct metrics_sample {
    std::map<std::string, double> plain; // unlabelled samples
    std::map<std::string, double> watch; // redis_push_requests_total{mode="watch",outcome=X}
};

metrics_sample parse_metrics(const std::string& text) {
    metrics_sample m;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        auto sp = line.rfind(' ');
        if (sp == std::string::npos)
            continue;
        double v = std::atof(line.c_str() + sp + 1);
        auto key = line.substr(0, sp);
        auto br = key.find('{');
        if (br == std::string::npos) {
            m.plain[key] = v;
        } else if (key.rfind("redis_push_requests_total{", 0) == 0 &&
                   key.find("mode=\"watch\"") != std::string::npos) {
            auto p = key.find("outcome=\"");
            if (p != std::string::npos) {
                auto q = key.find('"', p + 9);
                m.watch[key.substr(p + 9, q - p - 9)] += v;
            }
        }
    }
    return m;
}

class soak {
public:
    explicit soak(options o)
        : o_(std::move(o)), redis_(io_), tick_(io_), rng_(o_.seed),
          mix_(o_.mix.begin(), o_.mix.end()) {
        server_ = tcp::endpoint(asio::ip::make_address(o_.host), o_.port);
        for (std::size_t i = 0; i < o_.sources; ++i)
            sources_.push_back(asio::ip::make_address_v4("127.0.0." + std::to_string(2 + i)));
        if (o_.id_prefix.empty())
            o_.id_prefix = "sk" + std::to_string(std::random_device{}() % 100000) + "_";
        for (std::size_t i = 0; i < o_.concurrency; ++i)
            slots_.emplace_back().index = i; // a deque: slots never move
    }

    int run() {
        redis_.connect(tcp::endpoint(asio::ip::make_address(o_.redis_host), o_.redis_port));
        redis_.command({"CLIENT", "SETNAME", "soak"});
        snapshot("start", [this](json start) {
            result_["snapshots"]["start"] = std::move(start);
            run_phase("warmup", o_.warmup, [this] {
                quiesce("after_warmup", [this] {
                    snapshot("baseline", [this](json base) {
                        result_["snapshots"]["baseline"] = std::move(base);
                        sampling_ = true;
                        sample_timeline();
                        run_phase("soak", o_.lifecycles, [this] {
                            sampling_ = false;
                            quiesce("after_soak", [this] {
                                snapshot("final", [this](json fin) {
                                    result_["snapshots"]["final"] = std::move(fin);
                                    io_.stop();
                                });
                            });
                        });
                    });
                });
            });
        });
        io_.run();
        report();
        return 0;
    }

private:
    // ------------------------------------------------------------ phases
    void run_phase(std::string name, std::size_t target, std::function<void()> done) {
        phases_.emplace_back();
        ph_ = &phases_.back();
        ph_->name = std::move(name);
        ph_->target = target;
        ph_->t0 = clock_type::now();
        ph_->cpu_own0 = bench::cpu_sample::now().total();
        ph_->cpu_d0 = proc_cpu_s(o_.daemon_pid);
        ph_->cpu_r0 = proc_cpu_s(o_.redis_pid);
        phase_done_ = std::move(done);
        active_ = 0;
        std::cerr << "soak: phase " << ph_->name << ": " << target << " lifecycles, "
                  << slots_.size() << " slots\n";
        for (auto& s : slots_)
            next_scenario(s);
        watchdog();
        if (active_ == 0)
            end_phase();
    }

    void end_phase() {
        auto& p = *ph_;
        p.t1 = clock_type::now();
        p.cpu_own1 = bench::cpu_sample::now().total();
        p.cpu_d1 = proc_cpu_s(o_.daemon_pid);
        p.cpu_r1 = proc_cpu_s(o_.redis_pid);
        tick_.cancel();
        std::cerr << "soak: phase " << p.name << " done: " << p.finished << " lifecycles in "
                  << secs(p.t1 - p.t0) << " s (" << double(p.finished) / secs(p.t1 - p.t0)
                  << "/s), failures " << p.failures() << "\n";
        auto f = std::move(phase_done_);
        phase_done_ = nullptr;
        f();
    }

    void watchdog() {
        tick_.expires_after(std::chrono::seconds(1));
        tick_.async_wait([this](boost::system::error_code ec) {
            if (ec || !phase_done_)
                return;
            auto now = clock_type::now();
            for (auto& s : slots_) {
                if (!s.active || s.queued || s.stuck || secs(now - s.t_start) < o_.stuck_seconds)
                    continue;
                s.stuck = true;
                ++ph_->errors["stuck_scenario"];
                // Only the sockets: a read may still be pending on the parser and the
                // buffer; its handler (operation_aborted) ends the watch as a failure.
                for (auto& c : s.c)
                    if (c.sock) {
                        boost::system::error_code ig;
                        c.sock->close(ig);
                        c.open = false;
                    }
            }
            if (!o_.progress_file.empty()) {
                std::ofstream(o_.progress_file)
                    << ph_->name << " " << ph_->finished << "/" << ph_->target << " "
                    << secs(now - ph_->t0) << "\n";
            }
            watchdog();
        });
    }

    // ------------------------------------------------------------ scenarios
    void next_scenario(slot& s) {
        auto& p = *ph_;
        if (p.started >= p.target) {
            if (s.active) {
                s.active = false;
                if (--active_ == 0)
                    end_phase();
            }
            return;
        }
        if (!s.active) {
            s.active = true;
            ++active_;
        }
        s.kind = static_cast<scenario>(mix_(rng_));
        s.id = o_.id_prefix + std::to_string(seq_++);
        p.started += s.kind == scenario::killed ? 2 : 1;
        ++p.scenarios;
        // The fast scenarios must end well within the daemon's 1 s timeout: only
        // so many of them run at once (queueing delay), the rest of the slots
        // wait here, keeping their connections open, or hold timed_out watches.
        if (s.kind != scenario::timed_out) {
            if (fast_running_ >= o_.fast_inflight) {
                s.queued = true;
                fast_queue_.push_back(&s);
                return;
            }
            ++fast_running_;
        }
        begin(s);
    }

    void begin(slot& s) {
        s.queued = false;
        s.stuck = false;
        s.t_start = clock_type::now();
        s.pending = 1; // the seed reply stands for watch 0 until it is opened
        redis_.command({"SET", o_.prefix + "D_" + s.id, k_pending, "EX", "60"},
                       [this, &s](redisReply* r) {
                           if (r->type == REDIS_REPLY_ERROR) {
                               ++ph_->errors["redis_seed_error"];
                               ++ph_->finished;
                               return watch_done(s);
                           }
                           --s.pending;
                           open_watch(s, 0);
                       });
    }

    void open_watch(slot& s, int i) {
        ++s.pending;
        conn& c = s.c[i];
        auto now = clock_type::now();
        if (c.open && secs(now - c.last_used) < o_.idle_reuse_seconds)
            return send_request(s, i);
        if (c.open)
            close_conn(c, false);
        c.sock.emplace(io_);
        boost::system::error_code ec;
        c.sock->open(tcp::v4(), ec);
        if (!ec) {
            int one = 1;
            ::setsockopt(c.sock->native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                         sizeof one);
            c.sock->bind(tcp::endpoint(sources_[next_source_++ % sources_.size()], 0), ec);
        }
        if (ec)
            return fail(s, i, "socket_" + ec.message());
        ++ph_->connects;
        c.sock->async_connect(server_, [this, &s, i](boost::system::error_code ec) {
            if (ec)
                return fail(s, i, "connect_" + ec.message());
            s.c[i].sock->set_option(tcp::no_delay(true));
            s.c[i].open = true;
            send_request(s, i);
        });
    }

    void send_request(slot& s, int i) {
        conn& c = s.c[i];
        c.req = "GET /task/" + s.id + "?watch HTTP/1.1\r\nHost: " + o_.host + "\r\n\r\n";
        asio::async_write(
            *c.sock, asio::buffer(c.req), [this, &s, i](boost::system::error_code ec, std::size_t) {
                if (ec)
                    return fail(s, i, "write_" + ec.message());
                conn& c = s.c[i];
                c.parser.emplace();
                c.parser->body_limit(1 << 16);
                http::async_read_header(*c.sock, c.buf, *c.parser,
                                        [this, &s, i](boost::system::error_code ec, std::size_t) {
                                            on_head(s, i, ec);
                                        });
            });
    }

    outcome expected(const slot& s, int i) const {
        switch (s.kind) {
        case scenario::completed:
            return outcome::delivered;
        case scenario::killed:
            return i == 0 ? outcome::killed : outcome::delivered;
        case scenario::abandoned:
            return outcome::abandoned;
        case scenario::timed_out:
            return outcome::timed_out;
        }
        return outcome::other;
    }

    void on_head(slot& s, int i, boost::system::error_code ec) {
        conn& c = s.c[i];
        if (ec)
            return fail(s, i, "head_" + ec.message());
        auto st = c.parser->get().result_int();
        if (st != 200 || c.parser->is_done()) {
            // An immediate answer (404, 503, a done value...): read it, count it.
            http::async_read(*c.sock, c.buf, *c.parser,
                             [this, &s, i, st](boost::system::error_code, std::size_t) {
                                 fail(s, i, "immediate_http_" + std::to_string(st));
                             });
            return;
        }
        c.t_head = clock_type::now();
        ++ph_->established;
        switch (expected(s, i)) {
        case outcome::abandoned: {
            bool rst = std::uniform_real_distribution<>(0, 1)(rng_) < o_.rst_share;
            close_conn(c, rst);
            ++ph_->ok["abandoned"];
            ++ph_->finished;
            return watch_done(s);
        }
        case outcome::killed:
            open_watch(s, 1); // the killer, on the slot's second connection
            break;
        case outcome::delivered:
            redis_.command({"SET", o_.prefix + "D_" + s.id, k_value, "EX", "60"});
            redis_.command({"PUBLISH", o_.prefix + "SC_" + s.id, k_done_msg});
            break;
        default:
            break;
        }
        http::async_read(
            *c.sock, c.buf, *c.parser,
            [this, &s, i](boost::system::error_code ec, std::size_t) { on_body(s, i, ec); });
    }

    void on_body(slot& s, int i, boost::system::error_code ec) {
        conn& c = s.c[i];
        if (ec)
            return fail(s, i, "body_" + ec.message());
        auto now = clock_type::now();
        std::string_view body = c.parser->get().body();
        while (!body.empty() && (body.front() == '\n' || body.front() == '\r'))
            body.remove_prefix(1);
        outcome got = body == k_value       ? outcome::delivered
                      : body == k_killed    ? outcome::killed
                      : body == k_timed_out ? outcome::timed_out
                                            : outcome::other;
        outcome want = expected(s, i);
        ++ph_->finished;
        if (got == want) {
            ++ph_->ok[name(got)];
            ph_->lat[static_cast<int>(got)].push_back(
                std::chrono::duration<float, std::milli>(now - c.t_head).count());
        } else {
            ++ph_->mismatch[std::string("expected_") + name(want) + "_got_" + name(got)];
            if (got == outcome::other && other_bodies_.size() < 5)
                other_bodies_.push_back(std::string(body.substr(0, 300)));
        }
        c.parser.reset();
        c.last_used = now;
        // The killer's connection always closes (so the number of open connections
        // settles during the warm-up), the others a share of the time.
        if (i == 1 || std::uniform_real_distribution<>(0, 1)(rng_) < o_.reconnect_share)
            close_conn(c, false);
        watch_done(s);
    }

    void fail(slot& s, int i, const std::string& kind) {
        ++ph_->errors[kind];
        ++ph_->finished;
        close_conn(s.c[i], false);
        watch_done(s);
    }

    void close_conn(conn& c, bool rst) {
        if (c.sock) {
            boost::system::error_code ig;
            if (rst) {
                c.sock->set_option(asio::socket_base::linger(true, 0), ig);
                ++ph_->closes_rst;
            } else if (c.open) {
                ++ph_->closes_fin;
            }
            c.sock->close(ig);
        }
        c.parser.reset();
        c.buf.clear();
        c.open = false;
    }

    void watch_done(slot& s) {
        if (--s.pending > 0)
            return;
        if (s.kind != scenario::timed_out) {
            if (!fast_queue_.empty()) {
                slot* q = fast_queue_.front();
                fast_queue_.pop_front();
                begin(*q); // hands the token over
            } else {
                --fast_running_;
            }
        }
        next_scenario(s);
    }

    // ------------------------------------------------------------ measuring
    void fetch_metrics(std::function<void(std::optional<std::string>)> cb) {
        struct st {
            tcp::socket s;
            beast::flat_buffer b;
            http::response<http::string_body> res;
            std::string req;
            explicit st(asio::io_context& io) : s(io) {}
        };
        auto p = std::make_shared<st>(io_);
        p->req = "GET /metrics HTTP/1.1\r\nHost: " + o_.host + "\r\nConnection: close\r\n\r\n";
        p->s.async_connect(server_, [this, p, cb](boost::system::error_code ec) {
            if (ec)
                return cb(std::nullopt);
            asio::async_write(
                p->s, asio::buffer(p->req), [p, cb](boost::system::error_code ec, std::size_t) {
                    if (ec)
                        return cb(std::nullopt);
                    http::async_read(p->s, p->b, p->res,
                                     [p, cb](boost::system::error_code ec, std::size_t) {
                                         if (ec)
                                             return cb(std::nullopt);
                                         cb(std::move(p->res.body()));
                                     });
                });
        });
    }

    // Task channels with at least one subscriber in Redis: PUBSUB CHANNELS RA_SC_*.
    void numchannels(std::function<void(long long)> cb) {
        redis_.command({"PUBSUB", "CHANNELS", o_.prefix + "SC_*"}, [cb](redisReply* r) {
            cb(r->type == REDIS_REPLY_ARRAY ? static_cast<long long>(r->elements) : -1);
        });
    }

    void snapshot(const std::string& label, std::function<void(json)> cb) {
        // /proc first: the /metrics request below is a connection of the daemon's too.
        json j;
        j["t_s"] = secs(clock_type::now() - t_origin_);
        if (o_.daemon_pid > 0) {
            j["daemon_rss_kb"] = proc_status_kb(o_.daemon_pid, "VmRSS");
            j["daemon_hwm_kb"] = proc_status_kb(o_.daemon_pid, "VmHWM");
            j["daemon_fds"] = proc_fds(o_.daemon_pid);
            j["daemon_fd_kinds"] = fd_kinds(o_.daemon_pid);
            j["daemon_threads"] = proc_status_kb(o_.daemon_pid, "Threads");
            j["daemon_cpu_s"] = proc_cpu_s(o_.daemon_pid);
            if (!o_.snapshot_hook.empty()) {
                // bench/soak/run's heap probe: malloc_stats() and malloc_trim(0) in the
                // daemon through gdb; VmRSS once more afterwards shows how much of the
                // RSS was free heap the allocator had kept.
                j["snapshot_hook_status"] = std::system((o_.snapshot_hook + " " + label).c_str());
                j["daemon_rss_after_trim_kb"] = proc_status_kb(o_.daemon_pid, "VmRSS");
            }
        }
        if (o_.redis_pid > 0) {
            j["redis_rss_kb"] = proc_status_kb(o_.redis_pid, "VmRSS");
            j["redis_cpu_s"] = proc_cpu_s(o_.redis_pid);
        }
        fetch_metrics([this, cb, j](std::optional<std::string> text) mutable {
            if (text) {
                auto m = parse_metrics(*text);
                for (auto k :
                     {"redis_push_connections_open", "redis_push_watches_active",
                      "redis_push_channels_subscribed", "redis_push_redis_up",
                      "redis_push_connections_accepted_total",
                      "redis_push_connections_rejected_total", "redis_push_channel_messages_total"})
                    if (m.plain.count(k))
                        j["metrics"][k] = m.plain[k];
                j["watch_outcomes"] = m.watch;
            } else {
                j["metrics"] = nullptr;
            }
            numchannels([this, cb, j](long long n) mutable {
                j["redis_task_channels"] = n;
                redis_.command({"INFO", "memory"}, [this, cb, j](redisReply* r) mutable {
                    if (r->type == REDIS_REPLY_STRING) {
                        std::string s(r->str, r->len);
                        auto p = s.find("used_memory:");
                        if (p != std::string::npos)
                            j["redis_used_memory"] = std::atoll(s.c_str() + p + 12);
                    }
                    // Every channel with subscribers: the task channels above plus the
                    // daemon's health-probe channel (its subscriber connections SUBSCRIBE
                    // to it as their keep-alive check).
                    redis_.command({"PUBSUB", "CHANNELS"}, [this, cb, j](redisReply* r) mutable {
                        j["redis_pubsub_channels"] =
                            r->type == REDIS_REPLY_ARRAY ? static_cast<long long>(r->elements) : -1;
                        json other = json::array();
                        std::string task = o_.prefix + "SC_";
                        if (r->type == REDIS_REPLY_ARRAY)
                            for (std::size_t k = 0; k < r->elements && other.size() < 10; ++k) {
                                std::string c(r->element[k]->str, r->element[k]->len);
                                if (c.rfind(task, 0) != 0)
                                    other.push_back(c);
                            }
                        j["redis_other_channels"] = other;
                        cb(std::move(j));
                    });
                });
            });
        });
    }

    void quiesce(std::string label, std::function<void()> done) {
        for (auto& s : slots_)
            for (auto& c : s.c)
                close_conn(c, false);
        auto t0 = clock_type::now();
        auto timer = std::make_shared<asio::steady_timer>(io_);
        auto poll = std::make_shared<std::function<void()>>();
        *poll = [this, label, done, t0, timer, poll] {
            fetch_metrics([this, label, done, t0, timer, poll](std::optional<std::string> text) {
                numchannels([this, label, done, t0, timer, poll, text](long long nch) {
                    bool zero = false;
                    json last;
                    if (text) {
                        auto m = parse_metrics(*text);
                        double w = m.plain["redis_push_watches_active"];
                        double ch = m.plain["redis_push_channels_subscribed"];
                        double co = m.plain["redis_push_connections_open"];
                        zero = w == 0 && ch == 0 && co <= 1 && nch == 0; // 1: this scrape
                        last = {{"watches_active", w},
                                {"channels_subscribed", ch},
                                {"connections_open", co},
                                {"redis_task_channels", nch}};
                    }
                    double waited = secs(clock_type::now() - t0);
                    if (zero || waited > o_.quiesce_timeout) {
                        result_["quiesce"][label] = {
                            {"seconds_to_zero", waited}, {"reached_zero", zero}, {"last", last}};
                        std::cerr << "soak: quiesce " << label << ": "
                                  << (zero ? "zero after " : "NOT zero after ") << waited
                                  << " s, settling " << o_.settle_seconds << " s\n";
                        timer->expires_after(
                            std::chrono::milliseconds(static_cast<long>(o_.settle_seconds * 1000)));
                        timer->async_wait([done, poll](boost::system::error_code) {
                            *poll = nullptr; // break the cycle
                            done();
                        });
                        return;
                    }
                    timer->expires_after(std::chrono::milliseconds(100));
                    timer->async_wait([poll](boost::system::error_code) { (*poll)(); });
                });
            });
        };
        (*poll)();
    }

    void sample_timeline() {
        if (!sampling_)
            return;
        auto t = secs(clock_type::now() - t_origin_);
        long rss = o_.daemon_pid > 0 ? proc_status_kb(o_.daemon_pid, "VmRSS") : -1;
        long fds = o_.daemon_pid > 0 ? proc_fds(o_.daemon_pid) : -1;
        std::size_t done = ph_ ? ph_->finished : 0;
        fetch_metrics([this, t, rss, fds, done](std::optional<std::string> text) {
            json row = {t, rss, fds, done, nullptr, nullptr, nullptr};
            if (text) {
                auto m = parse_metrics(*text);
                row[4] = m.plain["redis_push_watches_active"];
                row[5] = m.plain["redis_push_channels_subscribed"];
                row[6] = m.plain["redis_push_connections_open"];
            }
            timeline_.push_back(std::move(row));
        });
        auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::seconds(1));
        timer->async_wait([this, timer](boost::system::error_code) { sample_timeline(); });
    }

    void report() {
        json& r = result_;
        r["config"] = {{"lifecycles", o_.lifecycles},
                       {"warmup", o_.warmup},
                       {"concurrency", o_.concurrency},
                       {"fast_inflight", o_.fast_inflight},
                       {"mix_completed_killed_abandoned_timed_out", o_.mix},
                       {"reconnect_share", o_.reconnect_share},
                       {"rst_share", o_.rst_share},
                       {"sources", o_.sources},
                       {"seed", o_.seed},
                       {"id_prefix", o_.id_prefix}};
        for (auto& p : phases_) {
            double wall = secs(p.t1 - p.t0);
            json lat;
            for (int k = 0; k < 4; ++k)
                if (!p.lat[k].empty())
                    lat[name(static_cast<outcome>(k))] = percentiles(p.lat[k]);
            r["phases"][p.name] = {{"target", p.target},
                                   {"started", p.started},
                                   {"finished", p.finished},
                                   {"scenarios", p.scenarios},
                                   {"established", p.established},
                                   {"seconds", wall},
                                   {"lifecycles_per_s", wall > 0 ? double(p.finished) / wall : 0},
                                   {"outcomes", p.ok},
                                   {"mismatches", p.mismatch},
                                   {"errors", p.errors},
                                   {"failures", p.failures()},
                                   {"connects", p.connects},
                                   {"closes_fin", p.closes_fin},
                                   {"closes_rst", p.closes_rst},
                                   {"head_to_body_ms", lat},
                                   {"cpu_s",
                                    {{"daemon", p.cpu_d1 - p.cpu_d0},
                                     {"redis", p.cpu_r1 - p.cpu_r0},
                                     {"soak", p.cpu_own1 - p.cpu_own0}}}};
        }
        r["unexpected_bodies"] = other_bodies_;
        r["redis_commands"] = redis_.commands;
        r["redis_error_replies"] = redis_.error_replies;
        r["timeline_columns"] = {"t_s",
                                 "daemon_rss_kb",
                                 "daemon_fds",
                                 "lifecycles",
                                 "watches_active",
                                 "channels_subscribed",
                                 "connections_open"};
        r["timeline"] = timeline_;
        std::cout << r.dump(1) << std::endl;
    }

    options o_;
    asio::io_context io_;
    tcp::endpoint server_;
    std::vector<asio::ip::address_v4> sources_;
    redis_pipe redis_;
    asio::steady_timer tick_;
    std::mt19937_64 rng_;
    std::discrete_distribution<int> mix_;
    std::deque<slot> slots_;
    std::deque<phase_stats> phases_;
    phase_stats* ph_ = nullptr;
    std::function<void()> phase_done_;
    std::size_t active_ = 0, seq_ = 0, next_source_ = 0, fast_running_ = 0;
    std::deque<slot*> fast_queue_;
    bool sampling_ = false;
    json result_, timeline_ = json::array();
    std::vector<std::string> other_bodies_;
    clock_type::time_point t_origin_ = clock_type::now();
};

void usage() {
    std::cout
        << R"(soak: watch lifecycles against redis-push-daemon, then leak figures (JSON on stdout).
  --host H --port P              daemon (default 127.0.0.1:8888)
  --redis-host H --redis-port P  Redis the daemon uses (default 127.0.0.1:6379)
  --prefix RA_                   key/channel prefix
  --daemon-pid PID               read VmRSS, fds, CPU of the daemon from /proc
  --redis-pid PID                read RSS, CPU of redis-server from /proc
  --lifecycles N                 soak phase (default 1000000)
  --warmup W                     warm-up phase before the baseline (default 50000)
  --concurrency C                concurrent scenarios (default 3000; up to 2 connections each)
  --fast-inflight F              completed/killed/abandoned scenarios in flight at most
                                 (default 400; the others wait, keeping their connections)
  --mix a:b:c:d                  scenario weights completed:killed:abandoned:timed_out
                                 (default 45:15:25:15; a killed scenario is 2 lifecycles)
  --reconnect-share X            share of connections closed after a lifecycle (default 0.3)
  --rst-share X                  share of abandoned watches closed with RST (default 0.5)
  --sources K                    source addresses 127.0.0.2.. (default 16)
  --stuck-seconds S              a scenario running longer is closed and counted (default 15)
  --settle-seconds S             wait after quiesce before a snapshot (default 6)
  --quiesce-timeout S            give up waiting for zero gauges after S (default 60)
  --seed N                       scenario sequence seed (default 1)
  --id-prefix S                  task id prefix (default random)
  --progress-file F              rewritten every second with the progress
  --snapshot-hook CMD            run "CMD <label>" at each snapshot (start, baseline, final)
                                 after VmRSS was read, then read VmRSS again
The daemon must run with watch.timeout_seconds: 1 (timed_out scenarios) and the
other scenarios must finish well within that second.
)";
}

} // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "soak: " << a << " needs a value\n";
                std::exit(64);
            }
            return argv[++i];
        };
        if (a == "--help" || a == "-h")
            return usage(), 0;
        else if (a == "--host")
            o.host = val();
        else if (a == "--port")
            o.port = static_cast<unsigned short>(std::stoi(val()));
        else if (a == "--redis-host")
            o.redis_host = val();
        else if (a == "--redis-port")
            o.redis_port = static_cast<unsigned short>(std::stoi(val()));
        else if (a == "--prefix")
            o.prefix = val();
        else if (a == "--daemon-pid")
            o.daemon_pid = std::stoi(val());
        else if (a == "--redis-pid")
            o.redis_pid = std::stoi(val());
        else if (a == "--lifecycles")
            o.lifecycles = std::stoul(val());
        else if (a == "--fast-inflight")
            o.fast_inflight = std::max<std::size_t>(1, std::stoul(val()));
        else if (a == "--warmup")
            o.warmup = std::stoul(val());
        else if (a == "--concurrency")
            o.concurrency = std::max<std::size_t>(1, std::stoul(val()));
        else if (a == "--mix") {
            std::vector<double> m;
            std::istringstream in(val());
            std::string part;
            while (std::getline(in, part, ':'))
                m.push_back(std::stod(part));
            if (m.size() != 4) {
                std::cerr << "soak: --mix needs four weights a:b:c:d\n";
                return 64;
            }
            o.mix = m;
        } else if (a == "--reconnect-share")
            o.reconnect_share = std::stod(val());
        else if (a == "--rst-share")
            o.rst_share = std::stod(val());
        else if (a == "--sources")
            o.sources = std::clamp<std::size_t>(std::stoul(val()), 1, 250);
        else if (a == "--stuck-seconds")
            o.stuck_seconds = std::stod(val());
        else if (a == "--settle-seconds")
            o.settle_seconds = std::stod(val());
        else if (a == "--quiesce-timeout")
            o.quiesce_timeout = std::stod(val());
        else if (a == "--seed")
            o.seed = static_cast<unsigned>(std::stoul(val()));
        else if (a == "--id-prefix")
            o.id_prefix = val();
        else if (a == "--snapshot-hook")
            o.snapshot_hook = val();
        else if (a == "--progress-file")
            o.progress_file = val();
        else {
            std::cerr << "soak: unknown option " << a << "\n";
            usage();
            return 64;
        }
    }
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    std::signal(SIGPIPE, SIG_IGN);
    return soak(std::move(o)).run();
}
