#include "redis_push/http/output_queue.hpp"

namespace rpd::http {

std::string_view output_queue::begin_write() {
    writing_ = true;
    out_.swap(pending_);
    pending_.clear();
    unsent_ = out_;
    return unsent_;
}

std::string_view output_queue::begin_static_write(std::string_view bytes) {
    writing_ = true;
    unsent_ = bytes;
    return unsent_;
}

std::string_view output_queue::wrote(std::size_t n) {
    unsent_.remove_prefix(n);
    if (!unsent_.empty())
        stalled_ = true;
    return unsent_;
}

bool output_queue::finish_write(bool shrink) {
    writing_ = false;
    out_.clear();
    if (shrink) {
        out_.shrink_to_fit();
        pending_.shrink_to_fit();
    }
    const bool was_stalled = stalled_;
    stalled_ = false;
    return was_stalled;
}

} // namespace rpd::http
