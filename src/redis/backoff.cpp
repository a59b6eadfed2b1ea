#include "redis_push/redis/backoff.hpp"

#include <algorithm>

namespace rpd::redis {

backoff::duration backoff::ceiling() const {
    // Stop doubling well before overflow; the cap wins long before anyway.
    const unsigned shift = std::min(attempt_, 20u);
    const auto grown = initial_ * (std::int64_t{1} << shift);
    return std::min(grown, cap_);
}

backoff::duration backoff::next(double unit_random) {
    const auto top = ceiling();
    ++attempt_;
    const auto half = top / 2;
    const auto spread = static_cast<std::int64_t>(static_cast<double>((top - half).count()) *
                                                  std::clamp(unit_random, 0.0, 1.0));
    return half + duration(spread);
}

} // namespace rpd::redis
