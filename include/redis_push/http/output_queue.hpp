#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rpd::http {

// A connection's output: the bytes of the write in flight, and what is
// queued behind it. Sans-I/O: the session does the writing and reports
// back; this keeps the books and the slow-client rule.
//
// Output goes out with write_some rather than one composed write, so that
// a client that stops reading shows: a partial write means the kernel's
// buffer for it is full (stalled). A stalled client may not let more than
// max_output_bytes pile up in our buffers. A single answer of any size is
// still written whole to a client that reads it.
class output_queue {
public:
    // Where the next bytes are appended.
    std::string& queued() { return pending_; }
    bool has_queued() const { return !pending_.empty(); }

    bool writing() const { return writing_; }
    bool stalled() const { return stalled_; }
    std::string_view unsent() const { return unsent_; }

    // Whether a stalled client has let more than `limit` bytes pile up.
    bool over_limit(std::size_t limit) const {
        return stalled_ && unsent_.size() + pending_.size() > limit;
    }

    // Moves the queued bytes into flight; returns what to write.
    std::string_view begin_write();
    // Puts bytes that live in static storage in flight (a keepalive): a
    // tick allocates nothing. Only while not writing.
    std::string_view begin_static_write(std::string_view bytes);

    // A write_some took n bytes. Returns what is left of the write in
    // flight (empty: it is complete); a rest means the client is stalled.
    std::string_view wrote(std::size_t n);
    // The write in flight is complete; `shrink` gives the buffers' memory
    // back (a held response keeps none). Returns whether it had stalled.
    bool finish_write(bool shrink);
    // The write failed: nothing is in flight any more.
    void abandon_write() { writing_ = false; }

private:
    std::string out_;         // the bytes of the write in flight
    std::string_view unsent_; // what the kernel has not taken yet (of out_, or static bytes)
    std::string pending_;     // bytes queued behind it
    bool writing_ = false;
    bool stalled_ = false; // the kernel's send buffer is full: the client is not reading
};

} // namespace rpd::http
