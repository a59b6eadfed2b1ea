#include "redis_push/app/memory_trimmer.hpp"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace rpd::app {

namespace {
constexpr std::chrono::seconds sample_interval{5};
// Below this, what a trim could give back is not worth the heap walk.
constexpr std::size_t smallest_peak = 1000;
} // namespace

memory_trimmer::memory_trimmer(boost::asio::io_context& ioc, load_fn load)
    : timer_(ioc), load_(std::move(load)) {}

void memory_trimmer::start() {
    stopped_ = false;
    arm();
}

void memory_trimmer::stop() {
    stopped_ = true;
    timer_.cancel();
}

void memory_trimmer::arm() {
    // A wait that completed just before stop() must not start another, or
    // the event loop would never run out of work at shutdown.
    if (stopped_)
        return;
    timer_.expires_after(sample_interval);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec)
            on_tick();
    });
}

void memory_trimmer::on_tick() {
    const std::size_t load = load_();
    peak_ = std::max(peak_, load);
    if (peak_ >= smallest_peak && load <= peak_ / 4) {
        const auto started = std::chrono::steady_clock::now();
        ::malloc_trim(0);
        spdlog::debug("load fell from {} to {}: free heap returned to the system in {} us", peak_,
                      load,
                      std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count());
        peak_ = load;
    }
    arm();
}

} // namespace rpd::app
