#pragma once

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace rpd::http {

// One timer behind every deadline of a connection (request head, idle,
// keepalive, stalled write), moved lazily: a new deadline only re-arms the
// timer when the pending wait would fire too late, and a wait that fires
// early re-arms for the rest. So a keep-alive connection's requests and a
// finishing watch touch the timer queue (a heap shared by every
// connection) not at all in the common case.
//
// Owner is the object whose pending wait keeps it alive (shared_ptr) and
// whose on_deadline() runs when a deadline is reached.
class lazy_deadline {
public:
    using clock = std::chrono::steady_clock;

    explicit lazy_deadline(const boost::asio::any_io_executor& ex) : timer_(ex) {}

    template <class Owner> void set_in(clock::duration d, const std::shared_ptr<Owner>& owner) {
        set_at(clock::now() + d, owner);
    }

    template <class Owner> void set_at(clock::time_point t, const std::shared_ptr<Owner>& owner) {
        deadline_ = t;
        if (pending_ && expiry_ <= t)
            return;
        pending_ = true;
        expiry_ = t;
        timer_.expires_at(t);
        timer_.async_wait([owner](const boost::system::error_code& ec) {
            if (ec)
                return; // replaced by a later expires_at, or cancelled
            auto& self = owner->deadline();
            self.pending_ = false;
            if (!self.armed())
                return;
            if (clock::now() < self.deadline_)
                return self.set_at(self.deadline_, owner); // woke early: wait for the rest
            self.clear();
            owner->on_deadline();
        });
    }

    // No deadline; a pending wait stays and, firing, finds nothing to do.
    void clear() { deadline_ = clock::time_point::max(); }
    bool armed() const { return deadline_ != clock::time_point::max(); }
    void cancel() {
        clear();
        timer_.cancel();
    }

private:
    boost::asio::steady_timer timer_;
    clock::time_point deadline_ = clock::time_point::max();
    clock::time_point expiry_; // of the pending wait
    bool pending_ = false;
};

} // namespace rpd::http
