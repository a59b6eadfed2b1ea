#pragma once

// `loadgen stream ...`: the stream (issue 10) load generator. N subscribers
// (SSE or WebSocket) on K streams, tagged publishes (t = steady_clock ns at
// the moment the publish is written, seq = publish number), per message
// publish-to-client latency, per publish the time until every subscriber of
// its stream had it. Daemon: GET /stream/<name> (SSE) or /ws + subscribe,
// published with XADD RA_S_<name> * t <ns> seq <k>. Nchan: its eventsource /
// websocket subscriber, published with POST /pub/<name>.
//
// stream_sub.cpp: the two subscribers; stream_pub.cpp: the two publishers;
// stream_main.cpp: the run (connect, hold, publish, report JSON).

#include "../common/bench_common.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace stream {

using ns_t = std::int64_t;

inline ns_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               clock_type::now().time_since_epoch())
        .count();
}

struct options {
    std::string target = "daemon"; // daemon | nchan
    std::string proto = "sse";     // sse | ws
    std::string host = "127.0.0.1";
    unsigned short port = 8888;
    std::size_t count = 1000; // subscribers
    std::size_t streams = 1;  // subscriber i is on stream i % streams
    std::string name_prefix;  // stream names: <prefix><k>, default random
    std::string sse_path;     // {name} replaced; default daemon /stream/{name}, nchan /sub/{name}
    std::string ws_path;      // default daemon /ws, nchan /sub/{name}
    std::string redis_host = "127.0.0.1";
    unsigned short redis_port = 6379;
    std::string prefix = "RA_";
    std::string pub_path = "/pub/{name}";
    std::size_t pub_conns = 2;
    std::string publish = "fanout"; // fanout | paced | none
    std::size_t repeats = 3;        // fanout: publishes, one after the other
    double gap_seconds = 0.5;       // fanout: pause between two publishes
    double rate = 1000;             // paced: publishes per second
    std::size_t publish_count = 0;  // paced: default = streams
    std::size_t sources = 8;
    std::size_t window = 1000; // connects in flight
    double settle_seconds = 1.0;
    double hold_seconds = 0;
    std::string ready_file, go_file, done_file, samples_file;
    double establish_timeout = 120;
    double deliver_timeout = 10;
};

inline std::string with_name(std::string tpl, const std::string& name) {
    auto pos = tpl.find("{name}");
    if (pos != std::string::npos)
        tpl.replace(pos, 6, name);
    return tpl;
}

// What a subscriber tells the run.
class events {
public:
    virtual ~events() = default;
    virtual void established(std::size_t i) = 0;
    virtual void failed(std::size_t i, const std::string& kind) = 0;
    virtual void message(std::size_t i, std::int64_t seq, ns_t t, ns_t now) = 0;
};

// Every "t":<ns> and "seq":<k> in text, paired in order (one pair per message).
void scan_messages(std::string_view text, std::size_t i, events& ev);

class subscriber {
public:
    virtual ~subscriber() = default;
    virtual void start() = 0;
    virtual void close() = 0;
};

std::unique_ptr<subscriber> make_sse(asio::io_context& io, const options& o, std::size_t i,
                                     const std::string& stream, asio::ip::address_v4 src,
                                     events& ev);
std::unique_ptr<subscriber> make_ws(asio::io_context& io, const options& o, std::size_t i,
                                    const std::string& stream, asio::ip::address_v4 src,
                                    events& ev);

class publisher {
public:
    virtual ~publisher() = default;
    virtual void start(std::function<void()> ready) = 0;
    // Builds the tagged message with t = now and writes it; returns that t.
    virtual ns_t publish(const std::string& stream, std::int64_t seq) = 0;
    std::size_t sent = 0, replies = 0, errors = 0;
    std::map<std::string, std::size_t> error_kinds;
};

std::unique_ptr<publisher> make_redis_publisher(asio::io_context& io, const options& o);
std::unique_ptr<publisher> make_http_publisher(asio::io_context& io, const options& o);

int main(int argc, char** argv);

} // namespace stream
