#pragma once

#include <string_view>

namespace rpd::queues::scripts {

// The acknowledged mode's steps, each one Lua script so that it is atomic
// in Redis: several daemons on one Redis never deliver a message twice nor
// put one back twice. Deadlines use Redis' clock (TIME), shared by every
// daemon. Keys and arguments are documented at each.

// KEYS: queue, in-flight, deliveries, deadlines, registry.
// ARGV: visibility (ms), queue name, then one entry per waiter in the order
// they are served: a delivery id (acknowledged take: LMOVE into in-flight,
// recorded) or "" (plain take: LPOP). Returns the messages taken, in that
// order; shorter than the waiters when the queue ran empty.
extern const std::string_view take;

// KEYS: in-flight, deliveries, deadlines. ARGV: delivery id.
// 1 when the delivery was in flight (now removed), else 0.
extern const std::string_view ack;

// KEYS: queue, in-flight, deliveries, deadlines. ARGV: delivery ids, the
// first served first. Puts those still in flight back at the head of the
// queue, in that order. Returns how many.
extern const std::string_view put_back;

// KEYS: queue, in-flight, deliveries, deadlines, registry. ARGV: queue
// name, at most how many. Puts every delivery whose deadline passed back
// at the head of the queue (the oldest first); forgets the queue in the
// registry when nothing is in flight. Returns how many.
extern const std::string_view put_back_expired;

} // namespace rpd::queues::scripts
