#pragma once

#include <chrono>
#include <cstdint>

namespace rpd::redis {

// Capped exponential backoff with "equal jitter": the n-th delay is drawn
// uniformly from [d/2, d] with d = min(cap, initial * 2^n). The jitter keeps
// several daemons (and our own pool connections) from reconnecting in
// lockstep after a Redis restart. Pure: the random source is injected.
class backoff {
public:
    using duration = std::chrono::milliseconds;

    backoff(duration initial, duration cap) : initial_(initial), cap_(cap) {}

    // `unit_random` is a number in [0, 1).
    duration next(double unit_random);
    void reset() { attempt_ = 0; }
    unsigned attempts() const { return attempt_; }

    // The upper bound of the next delay, without advancing.
    duration ceiling() const;

private:
    duration initial_;
    duration cap_;
    unsigned attempt_ = 0;
};

} // namespace rpd::redis
