#pragma once

// `loadgen queue ...`: the queue (issue 11) load generator. N long-poll
// consumers on K queues (consumer i on queue i % K), each one request at a
// time on one keep-alive connection, asking again as soon as an answer came;
// M messages RPUSHed by the loadgen's own pipelined Redis connection (all at
// once, paced at R/s, or none). Each message is
// {"seq":<k>,"t":<steady_clock ns when written>,"pad":"..."} and goes to
// queue k % K, so every delivery is checked: duplicates, losses (neither
// delivered nor left in Redis at the end), publish-to-client latency.
//
// Daemon: GET /queue/<name>?timeout=T (200 = the message, 504 = timed out).
// Webdis: GET /BLPOP/<key>/<T> (200 {"BLPOP":["<key>","<message>"]}, or
// {"BLPOP":null} after the time-out). Both on the same Redis key
// <prefix>Q_<name>.
//
// Vanishing consumers (--vanish F): a share F of the consumers closes its
// socket while a request waits (after a random number of messages, a random
// 0..20 ms after sending the request; whatever already arrived is read
// first), and half of them (--reconnect-share) come back after
// --reconnect-delay seconds.
//
// queue_consumer.cpp: the consumers; queue_redis.cpp: the producer and the
// final scan of the lists; queue_main.cpp: the run and the JSON report.

#include "../common/bench_common.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qbench {

using ns_t = std::int64_t;

inline ns_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               clock_type::now().time_since_epoch())
        .count();
}

struct options {
    std::string target = "daemon"; // daemon | webdis
    std::string host = "127.0.0.1";
    unsigned short port = 8888;
    std::size_t consumers = 1000;
    std::size_t queues = 100;
    std::size_t messages = 100000;
    std::size_t message_bytes = 100; // padded to about this size
    std::string name_prefix;         // queue names <prefix><k>, default random
    std::string path;                // {name} {key} {timeout} replaced; default per target
    unsigned timeout = 30;           // seconds per request
    std::string redis_host = "127.0.0.1";
    unsigned short redis_port = 6379;
    std::string prefix = "RA_";        // key = <prefix>Q_<name>
    std::string publish = "burst";     // burst | paced | none
    double rate = 1000;                // paced: messages per second
    std::size_t push_window = 2000;    // burst: RPUSHes in flight
    double vanish = 0;                 // share of consumers that vanish mid-wait
    double reconnect_share = 0.5;      // of those, the share that comes back
    double reconnect_delay = 0.5;      // seconds
    std::string vanish_mode = "close"; // close | shutdown (FIN, keep reading: a diagnosis)
    std::size_t sources = 8;
    std::size_t window = 1000; // connects in flight
    std::string ready_file, go_file, done_file, samples_file;
    double establish_timeout = 120;
    double stall_seconds = 5;     // after the last push: finish when nothing arrived this long
    double deliver_timeout = 120; // after the last push: finish at the latest
    unsigned seed = 1;
};

inline std::string replace_all(std::string s, std::string_view what, const std::string& with) {
    for (auto pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + with.size()))
        s.replace(pos, what.size(), with);
    return s;
}

// Finds "seq" and "t" in text, also inside an escaped JSON string (Webdis):
// returns false when there is no "seq".
bool scan_message(std::string_view text, std::int64_t& seq, ns_t& t);

// What a consumer tells the run.
class events {
public:
    virtual ~events() = default;
    virtual void ready(std::size_t i) = 0; // first request written
    virtual void failed(std::size_t i, const std::string& kind) = 0;
    virtual void message(std::size_t i, std::int64_t seq, ns_t t, ns_t now) = 0;
    virtual void timed_out(std::size_t i) = 0; // 504 / {"BLPOP":null}
    virtual void error(std::size_t i, const std::string& kind) = 0;
    virtual void vanished(std::size_t i, bool coming_back) = 0;
    virtual void reconnected(std::size_t i) = 0;
    virtual bool stopping() const = 0;
};

class consumer {
public:
    virtual ~consumer() = default;
    virtual void start() = 0;
    virtual void close() = 0;
    virtual bool waiting() const = 0; // a request written, no answer yet, socket open
};

// vanish_after: the consumer vanishes once it has this many messages
// (SIZE_MAX: never); coming_back: it reconnects after options::reconnect_delay.
std::unique_ptr<consumer> make_http_consumer(asio::io_context& io, const options& o, std::size_t i,
                                             std::string path, asio::ip::address_v4 src, events& ev,
                                             std::size_t vanish_after, bool coming_back,
                                             unsigned seed);

// The Redis side: one raw RESP connection, pipelined.
class redis_side {
public:
    virtual ~redis_side() = default;
    virtual void start(std::function<void()> ready) = 0;
    // RPUSH key message; the message gets t = now; returns t.
    virtual ns_t push(const std::string& key, std::int64_t seq) = 0;
    virtual std::size_t in_flight() const = 0;
    // Called after every reply (so a burst can refill its window).
    std::function<void()> on_reply;
    // LRANGE key 0 -1 for every key; done(seqs found, per-key lengths).
    virtual void scan(const std::vector<std::string>& keys,
                      std::function<void(std::vector<std::int64_t>)> done) = 0;
    std::size_t sent = 0, replies = 0, errors = 0;
    std::map<std::string, std::size_t> error_kinds;
};

std::unique_ptr<redis_side> make_redis_side(asio::io_context& io, const options& o);

int main(int argc, char** argv);

} // namespace qbench
