#include "run_loop.hpp"

namespace rpd::test {

bool run_until(boost::asio::io_context& ioc, const std::function<bool()>& pred,
               std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return pred();
        // A loop that ran out of work stays stopped until restarted.
        if (ioc.stopped())
            ioc.restart();
        ioc.run_one_for(std::chrono::milliseconds(10));
    }
    return true;
}

void run_for(boost::asio::io_context& ioc, std::chrono::milliseconds duration) {
    const auto deadline = std::chrono::steady_clock::now() + duration;
    run_until(
        ioc, [&] { return std::chrono::steady_clock::now() >= deadline; }, duration * 2);
}

} // namespace rpd::test
