// Drives the test's own io_context until a condition holds: the Redis layer
// runs in this process, on this thread, as in the daemon.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>

namespace rpd::test {

// Runs handlers until pred() is true or `timeout` passed; returns pred().
bool run_until(boost::asio::io_context& ioc, const std::function<bool()>& pred,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// Runs handlers for `duration`, whatever happens.
void run_for(boost::asio::io_context& ioc, std::chrono::milliseconds duration);

} // namespace rpd::test
