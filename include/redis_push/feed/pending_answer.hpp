#pragma once

#include "redis_push/feed/feed.hpp"

#include <memory>
#include <string_view>

namespace rpd::feed {

// A feed of one answer to one command (a publish, an ack): the command's
// handler calls finish() with a shared_ptr it captured; a client that left
// meanwhile cancelled it, and the answer goes nowhere.
class pending_answer final : public source {
public:
    explicit pending_answer(sink& s) : sink_(&s) {}
    void cancel() noexcept override { sink_ = nullptr; }
    // An event before the answer (an item sink's header, say).
    void event(std::string_view type, std::string_view data) {
        if (sink_ != nullptr)
            sink_->event(type, data, {});
    }
    void finish(end_reason reason, std::string_view value) {
        if (auto* s = std::exchange(sink_, nullptr))
            s->ended(reason, value);
    }

private:
    sink* sink_;
};

} // namespace rpd::feed
