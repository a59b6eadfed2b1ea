#pragma once

#include "redis_push/feed/end_reason.hpp"
#include "redis_push/feed/receipt.hpp"

#include <memory>
#include <string_view>
#include <utility>

namespace rpd::feed {

// A feed is one client's subscription to something that happens in Redis:
// a source (a mode: a task watch, later a queue wait or a stream cursor)
// emits zero or more events and ends exactly once; a sink (a transport:
// long-poll body, SSE, later WebSocket) frames them for the client. Neither
// knows the other's kind.

// Where a feed's output goes. Implemented by each transport's sink. A source
// never calls its sink from inside the call that created it (answers are
// posted), and never after the end or after cancel().
class sink {
public:
    // The wait is established: from here the answer is a stream (a held
    // watch sends its head now). A feed may end without ever opening.
    virtual void opened() = 0;
    // One event between opened() and the end. `type` names it (a task's
    // "update" or "done", a stream's "message"); `id` is the event's place
    // in its feed (a stream offset; empty for tasks). Both views are valid
    // only during the call.
    virtual void event(std::string_view type, std::string_view data, std::string_view id) = 0;
    // The end of one burst of events (one Redis read): a sink that batches
    // sends what it has now.
    virtual void flush() {}

    // Stream feeds only. Where the cursor stands before any message (the
    // offset `$` stood for); a sink that answers with the cursor keeps it.
    virtual void position(std::string_view offset) { (void)offset; }
    // Messages after the client's offset were trimmed away; `first` is the
    // first one still there. Comes before those messages.
    virtual void gap(std::string_view first) { (void)first; }
    // Queue and mailbox feeds only: the item the next event or answer
    // carries was taken out of Redis for this client; the sink settles `r`
    // when its bytes are written or can no longer be. A sink that cannot
    // tell settles at once.
    virtual void hand_over(receipt r) { r.settle(true); }
    // The end, exactly once. `value` is the answer when is_answer(reason)
    // (empty for a streaming feed whose last event was the answer), valid
    // only during the call.
    virtual void ended(end_reason reason, std::string_view value) = 0;

protected:
    ~sink() = default;
};

// What a mode implements; owned through a handle.
class source {
public:
    virtual ~source() = default;
    // The consumer is gone: release everything (subscription shares,
    // timers) at once and never call the sink again. Idempotent.
    virtual void cancel() noexcept = 0;
};

// Move-only ownership of a running feed: destroying (or resetting) it
// cancels the source, so a client that leaves frees its feed at once and
// the source keeps no pointer back to anything that outlives it.
class handle {
public:
    handle() = default;
    explicit handle(std::shared_ptr<source> s) : source_(std::move(s)) {}
    ~handle() { reset(); }
    handle(handle&& other) noexcept = default;
    handle& operator=(handle&& other) noexcept {
        if (this != &other) {
            reset();
            source_ = std::move(other.source_);
        }
        return *this;
    }
    handle(const handle&) = delete;
    handle& operator=(const handle&) = delete;

    void reset() noexcept {
        if (auto s = std::move(source_))
            s->cancel();
    }
    explicit operator bool() const { return source_ != nullptr; }

private:
    std::shared_ptr<source> source_;
};

} // namespace rpd::feed
