// `loadgen queue`: connect N consumers (window W in flight), each sends its
// first request; once all have (ready file), wait for the go file, then
// push M messages (burst: as fast as a window of RPUSHes in flight allows;
// paced: R/s; none: only hold the waiters), until every message was
// delivered or nothing arrived for --stall-seconds; then close the
// consumers, scan what is left in Redis and report JSON on stdout.

#include "queue.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

namespace qbench {

namespace {

clock_type::duration dur(double s) {
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
}

double ms(ns_t d) {
    return static_cast<double>(d) / 1e6;
}

json pct(std::vector<double> v) {
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
    return {{"p50", at(50)},    {"p90", at(90)},          {"p99", at(99)}, {"max", v.back()},
            {"min", v.front()}, {"mean", sum / v.size()}, {"n", v.size()}};
}

class runner final : public events {
public:
    explicit runner(options o) : o_(std::move(o)), timer_(io_), deadline_(io_) {
        for (std::size_t i = 0; i < o_.sources; ++i)
            sources_.push_back(asio::ip::make_address_v4("127.0.0." + std::to_string(2 + i)));
        std::mt19937 rng(o_.seed);
        if (o_.name_prefix.empty())
            o_.name_prefix = "q" + std::to_string(std::random_device{}() % 1000000) + "_";
        o_.queues = std::clamp<std::size_t>(o_.queues, 1, std::max<std::size_t>(1, o_.consumers));
        if (o_.path.empty())
            o_.path = o_.target == "daemon" ? "/queue/{name}?timeout={timeout}"
                                            : "/BLPOP/{key}/{timeout}";
        counts_.assign(o_.publish == "none" ? 0 : o_.messages, 0);
        // Vanishing consumers: every round(1/F)-th, after a random number of
        // messages in 0 .. 2 x the average share (0: while the first wait is idle).
        std::size_t every =
            o_.vanish > 0 ? static_cast<std::size_t>(std::lround(1 / o_.vanish)) : 0;
        std::size_t avg =
            std::max<std::size_t>(1, o_.messages / std::max<std::size_t>(1, o_.consumers));
        std::uniform_int_distribution<std::size_t> after(0, 2 * avg);
        std::uniform_real_distribution<double> back(0, 1);
        for (std::size_t i = 0; i < o_.consumers; ++i) {
            auto q = i % o_.queues;
            auto name = o_.name_prefix + std::to_string(q);
            auto path =
                replace_all(replace_all(replace_all(o_.path, "{name}", name), "{key}", key(q)),
                            "{timeout}", std::to_string(o_.timeout));
            bool vanishes = every && i % every == every - 1;
            std::size_t va = vanishes ? after(rng) : SIZE_MAX;
            bool comes_back = vanishes && back(rng) < o_.reconnect_share;
            planned_vanish_ += vanishes;
            subs_.push_back(make_http_consumer(io_, o_, i, path, sources_[i % sources_.size()],
                                               *this, va, comes_back,
                                               static_cast<unsigned>(rng())));
        }
        redis_ = make_redis_side(io_, o_);
    }

    int run() {
        t0_ = now_ns();
        cpu0_ = bench::cpu_sample::now();
        redis_->start([this] { begin_connect(); });
        io_.run();
        report();
        return 0;
    }

    // ---------------------------------------------------------------- events
    void ready(std::size_t) override {
        ++ready_;
        last_ready_ = now_ns();
        next_connect();
        check_ready();
    }
    void failed(std::size_t, const std::string& kind) override {
        ++errors_[kind];
        if (phase_ == 0) {
            ++failed_;
            next_connect();
            check_ready();
        }
    }
    void message(std::size_t, std::int64_t seq, ns_t t, ns_t now) override {
        if (seq < 0 || static_cast<std::size_t>(seq) >= counts_.size())
            return void(++errors_["unknown_message"]);
        if (phase_ < 2)
            ++early_;
        ++delivered_;
        if (counts_[seq]++ == 0)
            ++unique_;
        else
            ++duplicates_;
        last_delivery_ = now;
        if (t > 0)
            lat_ms_.push_back(ms(now - t));
        if (unique_ >= counts_.size() && pushed_ >= counts_.size() && phase_ == 2)
            finish();
    }
    void timed_out(std::size_t) override { ++timeouts_; }
    void error(std::size_t, const std::string& kind) override { ++errors_[kind]; }
    void vanished(std::size_t, bool back) override {
        ++vanished_;
        if (phase_ < 2)
            ++vanished_before_go_;
        (void)back;
    }
    void reconnected(std::size_t) override { ++reconnected_; }
    bool stopping() const override { return phase_ >= 3; }

private:
    std::string key(std::size_t q) const {
        return o_.prefix + "Q_" + o_.name_prefix + std::to_string(q);
    }

    // ---------------------------------------------------------------- connect
    void begin_connect() {
        t_connect0_ = now_ns();
        for (std::size_t k = 0; k < std::max<std::size_t>(1, o_.window); ++k)
            next_connect();
        deadline_.expires_after(dur(o_.establish_timeout));
        deadline_.async_wait([this](boost::system::error_code ec) {
            if (ec)
                return;
            std::cerr << "loadgen queue: establish timeout: " << ready_ << "/" << o_.consumers
                      << "\n";
            errors_["establish_timeout"] += o_.consumers - ready_ - failed_;
            all_ready();
        });
    }
    void next_connect() {
        if (next_ >= subs_.size() || phase_ != 0)
            return;
        subs_[next_++]->start();
    }
    void check_ready() {
        if (phase_ == 0 && ready_ + failed_ >= subs_.size())
            all_ready();
    }
    void all_ready() {
        if (phase_ != 0)
            return;
        phase_ = 1;
        deadline_.cancel();
        std::size_t waiting = 0;
        for (auto& s : subs_)
            waiting += s->waiting();
        std::cerr << "loadgen queue: " << ready_ << "/" << o_.consumers << " waiting in "
                  << ms(last_ready_ - t_connect0_) / 1000 << " s, failed " << failed_ << "\n";
        if (!o_.ready_file.empty()) { // whole or not at all: bench/run reads it at once
            std::ofstream(o_.ready_file + ".tmp")
                << json{{"ready", ready_}, {"waiting", waiting}}.dump() << "\n";
            std::filesystem::rename(o_.ready_file + ".tmp", o_.ready_file);
        }
        wait_go();
    }
    void wait_go() {
        if (!o_.go_file.empty() && !std::filesystem::exists(o_.go_file)) {
            timer_.expires_after(std::chrono::milliseconds(20));
            timer_.async_wait([this](boost::system::error_code) { wait_go(); });
            return;
        }
        if (o_.publish == "none")
            return finish();
        begin_push();
    }

    // ---------------------------------------------------------------- push
    void begin_push() {
        phase_ = 2;
        t_push0_ = now_ns();
        cpu_push0_ = bench::cpu_sample::now();
        if (o_.publish == "burst") {
            redis_->on_reply = [this] { refill(); };
            refill();
        } else
            pace();
    }
    void push_one() {
        auto seq = pushed_++;
        redis_->push(key(seq % o_.queues), static_cast<std::int64_t>(seq));
    }
    void refill() {
        if (phase_ != 2)
            return;
        while (pushed_ < counts_.size() && redis_->in_flight() < o_.push_window)
            push_one();
        if (pushed_ >= counts_.size() && !all_pushed_)
            pushed_all();
    }
    void pace() {
        if (phase_ != 2)
            return;
        auto due = std::min<std::size_t>(
            counts_.size(), static_cast<std::size_t>(ms(now_ns() - t_push0_) / 1000 * o_.rate) + 1);
        while (pushed_ < due)
            push_one();
        if (pushed_ >= counts_.size())
            return pushed_all();
        auto next = t_push0_ + static_cast<ns_t>(1e9 * static_cast<double>(pushed_) / o_.rate);
        timer_.expires_after(std::chrono::nanoseconds(std::max<ns_t>(0, next - now_ns())));
        timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec)
                pace();
        });
    }
    void pushed_all() {
        all_pushed_ = true;
        t_pushed_ = now_ns();
        if (unique_ >= counts_.size())
            return finish();
        deadline_.expires_after(dur(o_.deliver_timeout));
        deadline_.async_wait([this](boost::system::error_code ec) {
            if (!ec) {
                std::cerr << "loadgen queue: deliver timeout\n";
                finish();
            }
        });
        stall_check(delivered_, now_ns());
    }
    // Nothing new for --stall-seconds: what is missing is not coming.
    void stall_check(std::size_t seen, ns_t since) {
        timer_.expires_after(std::chrono::milliseconds(100));
        timer_.async_wait([this, seen, since](boost::system::error_code ec) {
            if (ec || phase_ != 2)
                return;
            auto now = now_ns();
            if (delivered_ != seen)
                return stall_check(delivered_, now);
            if (ms(now - since) / 1000 >= o_.stall_seconds) {
                std::cerr << "loadgen queue: nothing delivered for " << o_.stall_seconds
                          << " s: " << unique_ << "/" << counts_.size() << "\n";
                stalled_ = true;
                return finish();
            }
            stall_check(seen, since);
        });
    }

    // ---------------------------------------------------------------- finish
    void finish() {
        if (phase_ >= 3)
            return;
        phase_ = 3;
        t_end_ = now_ns();
        cpu_end_ = bench::cpu_sample::now();
        timer_.cancel();
        deadline_.cancel();
        redis_->on_reply = nullptr;
        if (!o_.done_file.empty())
            std::ofstream(o_.done_file) << unique_ << "\n";
        for (auto& s : subs_)
            s->close();
        if (counts_.empty())
            return io_.stop();
        // A server may still put back what it took for a consumer closed just
        // now: scan until two scans 300 ms apart agree (at most 5 s).
        scan_until_stable(0, SIZE_MAX);
    }
    void scan_until_stable(int round, std::size_t before) {
        std::vector<std::string> keys;
        for (std::size_t q = 0; q < o_.queues; ++q)
            keys.push_back(key(q));
        redis_->scan(keys, [this, round, before](std::vector<std::int64_t> found) {
            if ((found.size() != before || round == 0) && round < 16) {
                left_ = std::move(found);
                timer_.expires_after(std::chrono::milliseconds(300));
                auto n = left_.size();
                timer_.async_wait([this, round, n](boost::system::error_code) {
                    scan_until_stable(round + 1, n);
                });
                return;
            }
            left_ = std::move(found);
            io_.stop();
        });
    }

    // ---------------------------------------------------------------- report
    void report() {
        if (phase_ < 3)
            t_end_ = now_ns(), cpu_end_ = bench::cpu_sample::now();
        std::vector<std::uint32_t> left(counts_.size(), 0);
        std::size_t left_unknown = 0;
        for (auto s : left_)
            if (s >= 0 && static_cast<std::size_t>(s) < left.size())
                ++left[s];
            else
                ++left_unknown;
        std::size_t lost = 0, delivered_and_left = 0, left_twice = 0;
        json lost_sample = json::array();
        for (std::size_t k = 0; k < counts_.size() && k < pushed_; ++k) {
            if (counts_[k] == 0 && left[k] == 0) {
                ++lost;
                if (lost_sample.size() < 20)
                    lost_sample.push_back(k);
            }
            if (counts_[k] > 0 && left[k] > 0)
                ++delivered_and_left;
            if (left[k] > 1)
                left_twice += left[k] - 1;
        }
        std::size_t errs = 0;
        json errors = errors_;
        for (auto& [k, v] : errors_)
            errs += v;
        for (auto& [k, v] : redis_->error_kinds)
            errors[k] = v, errs += v;
        double deliver_s =
            unique_ && last_delivery_ > t_push0_ ? ms(last_delivery_ - t_push0_) / 1000 : 0.0;
        double push_wall = phase_ >= 2 ? ms(t_end_ - t_push0_) / 1000 : 0;
        json j;
        j["target"] = o_.target;
        j["consumers"] = o_.consumers;
        j["queues"] = o_.queues;
        j["messages"] = counts_.size();
        j["publish"] = o_.publish;
        j["timeout_s"] = o_.timeout;
        j["ready"] = ready_;
        j["failed"] = failed_;
        j["connect_s"] = ready_ ? ms(last_ready_ - t_connect0_) / 1000 : 0.0;
        j["pushed"] = pushed_;
        j["push_s"] = all_pushed_ ? ms(t_pushed_ - t_push0_) / 1000 : 0.0;
        j["delivered"] = delivered_;
        j["unique"] = unique_;
        j["duplicates"] = duplicates_ + delivered_and_left + left_twice;
        j["duplicate_deliveries"] = duplicates_;
        j["delivered_and_left_in_redis"] = delivered_and_left;
        j["left_twice_in_redis"] = left_twice;
        j["left_in_redis"] = left_.size();
        j["left_unknown"] = left_unknown;
        j["lost"] = lost;
        j["lost_sample"] = lost_sample;
        j["all_delivered"] = !counts_.empty() && unique_ >= counts_.size();
        j["stalled"] = stalled_;
        j["delivered_before_go"] = early_;
        j["deliver_s"] = deliver_s;
        j["throughput_per_s"] = deliver_s > 0 ? unique_ / deliver_s : 0.0;
        j["timeouts"] = timeouts_;
        j["vanish"] = {{"planned", planned_vanish_},
                       {"vanished", vanished_},
                       {"before_go", vanished_before_go_},
                       {"reconnected", reconnected_}};
        j["errors"] = errors;
        j["errors_total"] = errs;
        j["latency_ms"] = pct(lat_ms_);
        j["loadgen_cpu_s"] = {
            {"total", cpu_end_.total() - cpu0_.total()},
            {"push_phase", phase_ >= 2 ? cpu_end_.total() - cpu_push0_.total() : 0.0}};
        j["wall_s"] = {{"total", ms(t_end_ - t0_) / 1000}, {"push_phase", push_wall}};
        j["loadgen_core_share_push"] =
            push_wall > 0 ? (cpu_end_.total() - cpu_push0_.total()) / push_wall : 0.0;
        j["name_prefix"] = o_.name_prefix;
        if (!o_.samples_file.empty()) {
            std::sort(lat_ms_.begin(), lat_ms_.end());
            std::ofstream f(o_.samples_file);
            f << "# latency_ms (sorted)\n";
            for (double v : lat_ms_)
                f << v << '\n';
        }
        std::cout << j.dump(2) << std::endl;
    }

    options o_;
    asio::io_context io_{1};
    asio::steady_timer timer_, deadline_;
    std::vector<asio::ip::address_v4> sources_;
    std::vector<std::unique_ptr<consumer>> subs_;
    std::unique_ptr<redis_side> redis_;
    std::vector<std::uint32_t> counts_;
    std::vector<std::int64_t> left_;
    std::vector<double> lat_ms_;
    std::map<std::string, std::size_t> errors_;
    std::size_t next_ = 0, ready_ = 0, failed_ = 0, pushed_ = 0, delivered_ = 0, unique_ = 0,
                duplicates_ = 0, timeouts_ = 0, early_ = 0, planned_vanish_ = 0, vanished_ = 0,
                vanished_before_go_ = 0, reconnected_ = 0;
    bool all_pushed_ = false, stalled_ = false;
    int phase_ = 0; // 0 connecting, 1 waiting for go, 2 pushing, 3 finished
    ns_t t0_ = 0, t_connect0_ = 0, last_ready_ = 0, t_push0_ = 0, t_pushed_ = 0, t_end_ = 0,
         last_delivery_ = 0;
    bench::cpu_sample cpu0_, cpu_push0_, cpu_end_;
};

void usage() {
    std::cout << R"(loadgen queue: N long-poll queue consumers, M tagged RPUSHes, JSON report.
  --target daemon|webdis     server kind (default daemon)
  --host H --port P          server (default 127.0.0.1:8888)
  --consumers N              consumers (default 1000), consumer i on queue i % K
  --queues K                 queues (default 100)
  --messages M               messages (default 100000), message k to queue k % K
  --message-bytes B          message size, padded (default 100)
  --name-prefix S            queue names S0..S<K-1> (default random)
  --path TPL                 {name} {key} {timeout} replaced (daemon
                             /queue/{name}?timeout={timeout}, webdis /BLPOP/{key}/{timeout})
  --timeout T                seconds per request (default 30)
  --redis-host H --redis-port P --prefix RA_   keys <prefix>Q_<name>
  --publish burst|paced|none (default burst)
  --push-window W            burst: RPUSHes in flight (default 2000)
  --rate R                   paced: messages per second (default 1000)
  --vanish F                 share of consumers that close their socket mid-wait (default 0)
  --reconnect-share S        of those, the share that comes back (default 0.5)
  --reconnect-delay S        after this many seconds (default 0.5)
  --vanish-mode close|shutdown   close the socket (default), or only send FIN and keep
                             reading until the reconnect: answers written after the FIN
                             are counted (errors.answer_after_fin), not lost
  --window W                 connects in flight (default 1000)
  --sources S                source addresses 127.0.0.2.. (default 8)
  --ready-file F --go-file F --done-file F   handshakes with bench/run
  --establish-timeout S      (default 120)
  --stall-seconds S          after the last push, finish when nothing arrived for S s (default 5)
  --deliver-timeout S        after the last push, finish at the latest (default 120)
  --samples-file F           every latency (ms, sorted), for plots
  --seed N                   which consumers vanish and when (default 1)
)";
}

} // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "loadgen queue: " << a << " needs a value\n";
                std::exit(64);
            }
            return argv[++i];
        };
        auto num = [&] { return std::stoul(val()); };
        if (a == "--help" || a == "-h")
            return usage(), 0;
        else if (a == "--target")
            o.target = val();
        else if (a == "--host")
            o.host = val();
        else if (a == "--port")
            o.port = static_cast<unsigned short>(num());
        else if (a == "--consumers")
            o.consumers = num();
        else if (a == "--queues")
            o.queues = num();
        else if (a == "--messages")
            o.messages = num();
        else if (a == "--message-bytes")
            o.message_bytes = num();
        else if (a == "--name-prefix")
            o.name_prefix = val();
        else if (a == "--path")
            o.path = val();
        else if (a == "--timeout")
            o.timeout = static_cast<unsigned>(num());
        else if (a == "--redis-host")
            o.redis_host = val();
        else if (a == "--redis-port")
            o.redis_port = static_cast<unsigned short>(num());
        else if (a == "--prefix")
            o.prefix = val();
        else if (a == "--publish")
            o.publish = val();
        else if (a == "--push-window")
            o.push_window = std::max<std::size_t>(1, num());
        else if (a == "--rate")
            o.rate = std::stod(val());
        else if (a == "--vanish")
            o.vanish = std::stod(val());
        else if (a == "--reconnect-share")
            o.reconnect_share = std::stod(val());
        else if (a == "--vanish-mode")
            o.vanish_mode = val();
        else if (a == "--reconnect-delay")
            o.reconnect_delay = std::stod(val());
        else if (a == "--window")
            o.window = num();
        else if (a == "--sources")
            o.sources = std::max<std::size_t>(1, num());
        else if (a == "--ready-file")
            o.ready_file = val();
        else if (a == "--go-file")
            o.go_file = val();
        else if (a == "--done-file")
            o.done_file = val();
        else if (a == "--samples-file")
            o.samples_file = val();
        else if (a == "--establish-timeout")
            o.establish_timeout = std::stod(val());
        else if (a == "--stall-seconds")
            o.stall_seconds = std::stod(val());
        else if (a == "--deliver-timeout")
            o.deliver_timeout = std::stod(val());
        else if (a == "--seed")
            o.seed = static_cast<unsigned>(num());
        else {
            std::cerr << "loadgen queue: unknown option " << a << "\n";
            usage();
            return 64;
        }
    }
    if ((o.target != "daemon" && o.target != "webdis") ||
        (o.publish != "burst" && o.publish != "paced" && o.publish != "none") || o.vanish < 0 ||
        o.vanish > 1) {
        std::cerr << "loadgen queue: bad --target, --publish or --vanish\n";
        return 64;
    }
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    std::signal(SIGPIPE, SIG_IGN);
    return runner(std::move(o)).run();
}

} // namespace qbench
