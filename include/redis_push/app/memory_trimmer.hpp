#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>

namespace rpd::app {

// Gives freed heap back to the kernel after a load peak has passed.
// glibc keeps what a spike of clients used (100,000 watches are hundreds of
// MB) as free heap for ever; operators read that as a leak. Every few
// seconds this samples the load (connections plus channels); when it has
// fallen to a quarter of the peak seen since the last trim, malloc_trim
// releases the free pages. That is rare: once per spike, not per tick.
class memory_trimmer {
public:
    using load_fn = std::function<std::size_t()>;

    memory_trimmer(boost::asio::io_context& ioc, load_fn load);

    void start();
    void stop();

private:
    void arm();
    void on_tick();

    boost::asio::steady_timer timer_;
    load_fn load_;
    std::size_t peak_ = 0;
    bool stopped_ = false;
};

} // namespace rpd::app
