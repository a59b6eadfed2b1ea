// `loadgen stream`: connect N subscribers (window W in flight), wait until
// all are established, settle, then publish (fanout: R publishes one after
// the other, each to stream k % K, waiting until all its subscribers have it;
// paced: M publishes at R/s over the K streams; none: hold until --go-file),
// report JSON on stdout.

#include "stream.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

namespace stream {

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
    enum class cst { idle, connecting, held, failed };
    struct conn {
        std::size_t stream = 0;
        cst state = cst::idle;
        std::int64_t last_seq = -1;
        ns_t t_start = 0;
    };
    struct pub {
        std::size_t stream = 0;
        ns_t t = 0;
        std::size_t expected = 0, delivered = 0;
        ns_t first = 0, last = 0;
    };

public:
    explicit runner(options o) : o_(std::move(o)), timer_(io_), deadline_(io_) {
        for (std::size_t i = 0; i < o_.sources; ++i)
            sources_.push_back(asio::ip::make_address_v4("127.0.0." + std::to_string(2 + i)));
        if (o_.name_prefix.empty())
            o_.name_prefix = "b" + std::to_string(std::random_device{}() % 1000000) + "_";
        o_.streams = std::clamp<std::size_t>(o_.streams, 1, std::max<std::size_t>(1, o_.count));
        if (o_.publish_count == 0)
            o_.publish_count = o_.publish == "fanout" ? o_.repeats : o_.streams;
        conns_.resize(o_.count);
        alive_.assign(o_.streams, 0);
        for (std::size_t i = 0; i < o_.count; ++i) {
            conns_[i].stream = i % o_.streams;
            auto name = o_.name_prefix + std::to_string(conns_[i].stream);
            auto src = sources_[i % sources_.size()];
            subs_.push_back(o_.proto == "ws" ? make_ws(io_, o_, i, name, src, *this)
                                             : make_sse(io_, o_, i, name, src, *this));
        }
        pub_ = o_.target == "daemon" ? make_redis_publisher(io_, o_) : make_http_publisher(io_, o_);
    }

    int run() {
        t0_ = now_ns();
        cpu0_ = bench::cpu_sample::now();
        if (o_.target == "daemon")
            pub_->start([this] { begin_connect(); });
        else
            begin_connect(); // nginx drops an idle connection: the publisher connects later
        io_.run();
        report();
        return 0;
    }

    // ---------------------------------------------------------------- events
    void established(std::size_t i) override {
        auto& c = conns_[i];
        if (c.state != cst::connecting)
            return;
        c.state = cst::held;
        ++established_, ++alive_[c.stream];
        auto now = now_ns();
        connect_ms_.push_back(ms(now - c.t_start));
        last_est_ = now;
        next_connect();
        check_established();
    }
    void failed(std::size_t i, const std::string& kind) override {
        auto& c = conns_[i];
        if (phase_ >= 3 || c.state == cst::failed)
            return;
        if (c.state == cst::held)
            --alive_[c.stream], ++lost_after_established_;
        bool pending = c.state == cst::connecting;
        c.state = cst::failed;
        ++failed_, ++errors_[kind];
        if (pending)
            next_connect();
        check_established();
    }
    void message(std::size_t i, std::int64_t seq, ns_t t, ns_t now) override {
        auto& c = conns_[i];
        if (seq < 0 || static_cast<std::size_t>(seq) >= pubs_.size() || t <= 0)
            return void(++errors_["unknown_message"]);
        auto& p = pubs_[seq];
        if (p.stream != c.stream)
            return void(++errors_["wrong_stream"]);
        if (seq <= c.last_seq)
            return void(++duplicates_);
        c.last_seq = seq;
        ++p.delivered, ++delivered_;
        if (!p.first || now < p.first)
            p.first = now;
        p.last = std::max(p.last, now);
        lat_ms_.push_back(ms(now - t));
        if (o_.publish == "fanout" && seq == cur_ && p.delivered >= p.expected)
            fanout_done();
        else if (o_.publish == "paced")
            check_paced_done();
    }

private:
    // ---------------------------------------------------------------- connect
    void begin_connect() {
        t_connect0_ = now_ns();
        cpu_connect0_ = bench::cpu_sample::now();
        for (std::size_t k = 0; k < std::max<std::size_t>(1, o_.window); ++k)
            next_connect();
        deadline_.expires_after(dur(o_.establish_timeout));
        deadline_.async_wait([this](boost::system::error_code ec) {
            if (ec)
                return;
            std::cerr << "loadgen: establish timeout: " << established_ << "/" << o_.count << "\n";
            for (auto& c : conns_)
                if (c.state != cst::held && c.state != cst::failed)
                    c.state = cst::failed, ++failed_, ++errors_["establish_timeout"];
            all_established();
        });
        check_established();
    }
    void next_connect() {
        if (next_ >= conns_.size() || phase_ != 0)
            return;
        auto i = next_++;
        conns_[i].state = cst::connecting;
        conns_[i].t_start = now_ns();
        subs_[i]->start();
    }
    void check_established() {
        if (phase_ == 0 && established_ + failed_ >= conns_.size())
            all_established();
    }
    void all_established() {
        if (phase_ != 0)
            return;
        phase_ = 1;
        deadline_.cancel();
        t_established_ = now_ns();
        cpu_established_ = bench::cpu_sample::now();
        std::cerr << "loadgen: established " << established_ << "/" << o_.count << " in "
                  << ms(last_est_ - t_connect0_) / 1000 << " s, failed " << failed_ << "\n";
        if (!o_.ready_file.empty())
            std::ofstream(o_.ready_file) << established_ << "\n";
        double wait = o_.publish == "none" ? o_.hold_seconds : o_.settle_seconds;
        timer_.expires_after(dur(wait));
        timer_.async_wait([this](boost::system::error_code) { wait_go(); });
    }
    void wait_go() {
        if (!o_.go_file.empty() && !std::filesystem::exists(o_.go_file)) {
            timer_.expires_after(std::chrono::milliseconds(50));
            timer_.async_wait([this](boost::system::error_code) { wait_go(); });
            return;
        }
        if (o_.publish == "none")
            return finish();
        pub_->start([this] { begin_publish(); });
    }

    // ---------------------------------------------------------------- publish
    void begin_publish() {
        phase_ = 2;
        t_pub0_ = now_ns();
        cpu_pub0_ = bench::cpu_sample::now();
        if (o_.publish == "fanout")
            fanout_next();
        else
            pace();
    }
    std::int64_t publish_one() {
        auto seq = static_cast<std::int64_t>(pubs_.size());
        pub p;
        p.stream = static_cast<std::size_t>(seq) % o_.streams;
        p.expected = alive_[p.stream];
        pubs_.push_back(p);
        pubs_.back().t = pub_->publish(o_.name_prefix + std::to_string(p.stream), seq);
        return seq;
    }
    void fanout_next() {
        if (pubs_.size() >= o_.publish_count)
            return finish();
        cur_ = publish_one();
        deadline_.expires_after(dur(o_.deliver_timeout));
        deadline_.async_wait([this](boost::system::error_code ec) {
            if (!ec)
                fanout_done();
        });
    }
    void fanout_done() {
        deadline_.cancel();
        auto done = cur_;
        cur_ = -1;
        if (done < 0)
            return;
        timer_.expires_after(dur(o_.gap_seconds));
        timer_.async_wait([this](boost::system::error_code) { fanout_next(); });
    }
    void pace() {
        auto due = std::min<std::size_t>(
            o_.publish_count,
            static_cast<std::size_t>(ms(now_ns() - t_pub0_) / 1000 * o_.rate) + 1);
        while (pubs_.size() < due)
            publish_one();
        if (pubs_.size() >= o_.publish_count) {
            deadline_.expires_after(dur(o_.deliver_timeout));
            deadline_.async_wait([this](boost::system::error_code ec) {
                if (!ec)
                    finish();
            });
            return check_paced_done();
        }
        auto next = t_pub0_ + static_cast<ns_t>(1e9 * static_cast<double>(pubs_.size()) / o_.rate);
        timer_.expires_after(std::chrono::nanoseconds(std::max<ns_t>(0, next - now_ns())));
        timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec)
                pace();
        });
    }
    void check_paced_done() {
        if (pubs_.size() < o_.publish_count || phase_ != 2)
            return;
        std::size_t expected = 0;
        for (auto& p : pubs_)
            expected += p.expected;
        if (delivered_ >= expected)
            finish();
    }
    void finish() {
        if (phase_ == 3)
            return;
        phase_ = 3;
        t_end_ = now_ns();
        cpu_end_ = bench::cpu_sample::now();
        timer_.cancel();
        deadline_.cancel();
        if (!o_.done_file.empty())
            std::ofstream(o_.done_file) << delivered_ << "\n";
        io_.stop();
    }

    // ---------------------------------------------------------------- report
    void report() {
        if (phase_ < 3)
            t_end_ = now_ns(), cpu_end_ = bench::cpu_sample::now();
        json pubs = json::array();
        std::vector<double> complete;
        std::size_t expected = 0, missing = 0;
        for (std::size_t k = 0; k < pubs_.size(); ++k) {
            auto& p = pubs_[k];
            expected += p.expected;
            missing += p.expected - std::min(p.expected, p.delivered);
            bool all = p.delivered >= p.expected && p.expected > 0;
            if (all)
                complete.push_back(ms(p.last - p.t));
            if (o_.publish == "fanout")
                pubs.push_back({{"seq", k},
                                {"expected", p.expected},
                                {"delivered", p.delivered},
                                {"all_delivered_ms", all ? json(ms(p.last - p.t)) : json(nullptr)},
                                {"first_ms", p.first ? json(ms(p.first - p.t)) : json(nullptr)}});
        }
        std::size_t errs = 0;
        json errors = errors_;
        for (auto& [k, v] : errors_)
            errs += v;
        for (auto& [k, v] : pub_->error_kinds)
            errors[k] = v, errs += v;
        double connect_s = established_ ? ms(last_est_ - t_connect0_) / 1000 : 0;
        double pub_wall = phase_ >= 2 ? ms(t_end_ - t_pub0_) / 1000 : 0;
        json j;
        j["target"] = o_.target;
        j["proto"] = o_.proto;
        j["count"] = o_.count;
        j["streams"] = o_.streams;
        j["established"] = established_;
        j["failed"] = failed_;
        j["lost_after_established"] = lost_after_established_;
        j["errors"] = errors;
        j["errors_total"] = errs;
        j["connect"] = {{"seconds", connect_s},
                        {"rate_per_s", connect_s > 0 ? established_ / connect_s : 0.0},
                        {"per_conn_ms", pct(connect_ms_)}};
        j["publish"] = {{"mode", o_.publish},
                        {"published", pubs_.size()},
                        {"rate", o_.publish == "paced" ? json(o_.rate) : json(nullptr)},
                        {"replies", pub_->replies}};
        j["expected"] = expected;
        j["delivered"] = delivered_;
        j["missing"] = missing;
        j["duplicates"] = duplicates_;
        j["all_delivered"] = !pubs_.empty() && missing == 0;
        j["latency_ms"] = pct(lat_ms_);
        if (o_.publish == "fanout") {
            j["fanout"] = pubs;
            j["fanout_ms"] = pct(complete);
        }
        auto c_est = phase_ >= 1 ? cpu_established_ : cpu_end_;
        j["loadgen_cpu_s"] = {
            {"total", cpu_end_.total() - cpu0_.total()},
            {"connect_phase", c_est.total() - cpu_connect0_.total()},
            {"publish_phase", phase_ >= 2 ? cpu_end_.total() - cpu_pub0_.total() : 0.0}};
        j["wall_s"] = {{"total", ms(t_end_ - t0_) / 1000}, {"publish_phase", pub_wall}};
        j["loadgen_core_share_publish"] =
            pub_wall > 0 ? (cpu_end_.total() - cpu_pub0_.total()) / pub_wall : 0.0;
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
    std::vector<conn> conns_;
    std::vector<std::unique_ptr<subscriber>> subs_;
    std::vector<std::size_t> alive_;
    std::unique_ptr<publisher> pub_;
    std::vector<pub> pubs_;
    std::vector<double> lat_ms_, connect_ms_;
    std::map<std::string, std::size_t> errors_;
    std::size_t next_ = 0, established_ = 0, failed_ = 0, lost_after_established_ = 0,
                delivered_ = 0, duplicates_ = 0;
    std::int64_t cur_ = -1;
    int phase_ = 0; // 0 connecting, 1 holding, 2 publishing, 3 finished
    ns_t t0_ = 0, t_connect0_ = 0, last_est_ = 0, t_established_ = 0, t_pub0_ = 0, t_end_ = 0;
    bench::cpu_sample cpu0_, cpu_connect0_, cpu_established_, cpu_pub0_, cpu_end_;
};

void usage() {
    std::cout
        << R"(loadgen stream: N stream subscribers (SSE or WebSocket), tagged publishes, JSON report.
  --target daemon|nchan      server kind (default daemon)
  --proto sse|ws             subscriber kind (default sse)
  --host H --port P          server (default 127.0.0.1:8888)
  --count N                  subscribers (default 1000)
  --streams K                subscriber i is on stream i % K (default 1)
  --name-prefix S            stream names S0..S<K-1> (default random)
  --sse-path TPL --ws-path TPL   {name} replaced (daemon /stream/{name}, /ws; nchan /sub/{name})
  --redis-host H --redis-port P --prefix RA_   (daemon) XADD <prefix>S_<name> * t <ns> seq <k>
  --pub-path TPL --pub-conns C   (nchan) POST TPL (default /pub/{name}) over C connections
  --publish fanout|paced|none    (default fanout)
  --repeats R                fanout: R publishes, each once every subscriber has the one before (default 3)
  --gap-seconds S            fanout: pause between them (default 0.5)
  --rate R --publish-count M paced: M publishes (default K) at R/s (default 1000), stream k % K
  --window W                 connects in flight (default 1000)
  --sources S                source addresses 127.0.0.2.. (default 8)
  --settle-seconds S         wait after all are established before publishing (default 1)
  --hold-seconds S           publish none: hold this long (then --go-file, if given)
  --ready-file F --go-file F --done-file F   handshakes with bench/run
  --establish-timeout S      (default 120)   --deliver-timeout S  per publish / after the last (default 10)
  --samples-file F           every latency (ms, sorted), for plots
)";
}

} // namespace

int main(int argc, char** argv) {
    options o;
    bool sse_set = false, ws_set = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "loadgen stream: " << a << " needs a value\n";
                std::exit(64);
            }
            return argv[++i];
        };
        auto num = [&] { return std::stoul(val()); };
        if (a == "--help" || a == "-h")
            return usage(), 0;
        else if (a == "--target")
            o.target = val();
        else if (a == "--proto")
            o.proto = val();
        else if (a == "--host")
            o.host = val();
        else if (a == "--port")
            o.port = static_cast<unsigned short>(num());
        else if (a == "--count")
            o.count = num();
        else if (a == "--streams")
            o.streams = num();
        else if (a == "--name-prefix")
            o.name_prefix = val();
        else if (a == "--sse-path")
            o.sse_path = val(), sse_set = true;
        else if (a == "--ws-path")
            o.ws_path = val(), ws_set = true;
        else if (a == "--redis-host")
            o.redis_host = val();
        else if (a == "--redis-port")
            o.redis_port = static_cast<unsigned short>(num());
        else if (a == "--prefix")
            o.prefix = val();
        else if (a == "--pub-path")
            o.pub_path = val();
        else if (a == "--pub-conns")
            o.pub_conns = num();
        else if (a == "--publish")
            o.publish = val();
        else if (a == "--repeats")
            o.repeats = num();
        else if (a == "--gap-seconds")
            o.gap_seconds = std::stod(val());
        else if (a == "--rate")
            o.rate = std::stod(val());
        else if (a == "--publish-count")
            o.publish_count = num();
        else if (a == "--window")
            o.window = num();
        else if (a == "--sources")
            o.sources = std::max<std::size_t>(1, num());
        else if (a == "--settle-seconds")
            o.settle_seconds = std::stod(val());
        else if (a == "--hold-seconds")
            o.hold_seconds = std::stod(val());
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
        else if (a == "--deliver-timeout")
            o.deliver_timeout = std::stod(val());
        else {
            std::cerr << "loadgen stream: unknown option " << a << "\n";
            usage();
            return 64;
        }
    }
    if ((o.target != "daemon" && o.target != "nchan") || (o.proto != "sse" && o.proto != "ws") ||
        (o.publish != "fanout" && o.publish != "paced" && o.publish != "none")) {
        std::cerr << "loadgen stream: bad --target, --proto or --publish\n";
        return 64;
    }
    bool d = o.target == "daemon";
    if (!sse_set)
        o.sse_path = d ? "/stream/{name}" : "/sub/{name}";
    if (!ws_set)
        o.ws_path = d ? "/ws" : "/sub/{name}";
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    std::signal(SIGPIPE, SIG_IGN);
    return runner(std::move(o)).run();
}

} // namespace stream
