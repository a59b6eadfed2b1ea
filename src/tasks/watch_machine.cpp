#include "redis_push/tasks/watch_machine.hpp"

#include "redis_push/tasks/message.hpp"

#include <utility>

namespace rpd::tasks {

namespace {
using action = watch_machine::action;
using end_reason = feed::end_reason;
using result_kind = watch_machine::read_result::kind;

constexpr std::string_view update_event = "update";
constexpr std::string_view done_event = "done";
} // namespace

watch_machine::watch_machine(bool follow, std::string_view uuid) : follow_(follow), uuid_(uuid) {}

action watch_machine::start(bool redis_ready, bool shutting_down) {
    if (phase_ != phase::idle)
        return {};
    // Answer at once rather than hang until Redis returns.
    if (shutting_down)
        return finish(end_reason::shutting_down);
    if (!redis_ready)
        return finish(end_reason::unavailable);
    phase_ = phase::subscribing;
    return {.type = action::kind::subscribe};
}

action watch_machine::subscribed() {
    switch (phase_) {
    case phase::subscribing:
        phase_ = phase::reading;
        return read(read_purpose::initial);
    case phase::announcing:
    case phase::waiting:
        // Resubscribed after a reconnect: messages (our own kill's echo
        // among them) may be lost, and the task may have finished meanwhile.
        killable_ = true;
        return recheck();
    default:
        return {};
    }
}

action watch_machine::recheck() {
    if (phase_ != phase::waiting)
        return {};
    if (!update_unread_)
        return read(read_purpose::after_reconnect);
    if (follow_) {
        // One read per update, or its event would be sent twice.
        if (update_reading_)
            return read(read_purpose::after_reconnect);
        update_reading_ = true;
    }
    return read(read_purpose::after_update);
}

action watch_machine::read_reply(read_purpose purpose, const read_result& r) {
    if (purpose == read_purpose::initial)
        return initial_read(r);
    if (phase_ != phase::waiting)
        return {};
    if (r.type == result_kind::unavailable) {
        // Waiting watches stay open while Redis is away; the command
        // connection's return brings recheck(), which reads again.
        if (purpose == read_purpose::after_update) {
            update_unread_ = true;
            update_reading_ = false;
        }
        return {};
    }
    if (purpose == read_purpose::after_reconnect) {
        // Only a finished task ends the watch; anything else (a missing
        // key too) keeps it waiting.
        if (r.type != result_kind::value || !inspect_value(r.value).done)
            return {};
        if (!follow_)
            return finish(end_reason::delivered, r.value);
        return emit(true, r.value);
    }
    update_unread_ = false;
    update_reading_ = false;
    if (r.type == result_kind::nil)
        return finish(end_reason::not_found);
    if (r.type != result_kind::value)
        return finish(end_reason::unavailable);
    // After an update the value is the answer as it is, like a poll's: it
    // was valid JSON when the watch started.
    if (!follow_)
        return finish(end_reason::delivered, r.value);
    return emit(reading_done_, r.value);
}

action watch_machine::initial_read(const read_result& r) {
    if (phase_ != phase::reading)
        return {};
    if (r.type == result_kind::nil)
        return finish(end_reason::not_found);
    if (r.type != result_kind::value)
        return finish(end_reason::unavailable);
    const auto info = inspect_value(r.value);
    if (!info.valid_json)
        return finish(end_reason::invalid_json);
    if (info.done)
        return finish(end_reason::found, r.value);
    if (follow_)
        held_.assign(r.value); // the first event, once established
    // The kill goes out first and the client sees the head only once Redis
    // has taken it: whatever the client (or anyone it tells) publishes next
    // is ordered after our kill.
    phase_ = phase::announcing;
    return {.type = action::kind::publish_kill};
}

action watch_machine::publish_reply(bool published) {
    if (phase_ != phase::announcing)
        return {};
    if (!published)
        killable_ = true; // no echo will come
    phase_ = phase::waiting;
    then_ = follow_ ? then::initial_event : then::drain;
    return {.type = action::kind::open};
}

action watch_machine::message(std::string_view payload) {
    // Before the channel is confirmed nothing was read yet: the read that
    // follows sees whatever such a message announced.
    if (phase_ == phase::idle || phase_ == phase::subscribing || phase_ == phase::finished)
        return {};
    const auto m = classify_message(payload);
    switch (m.type) {
    case channel_message::kind::kill:
        if (m.has_src && m.src == uuid_)
            killable_ = true;
        else if (killable_)
            return finish(end_reason::killed);
        return {};
    case channel_message::kind::ignore:
        return {.type = action::kind::ignored, .text = payload};
    default:
        break;
    }
    const bool deliver = m.type == channel_message::kind::deliver;
    if (phase_ != phase::waiting || (follow_ && follow_busy())) {
        if (!follow_)
            backlog_.clear(); // one answer only: the latest state
        backlog_.push_back({std::string(payload), deliver, m.done});
        return {};
    }
    return apply(deliver, m.done, payload);
}

bool watch_machine::follow_busy() const {
    return update_reading_ || update_unread_ || !backlog_.empty();
}

action watch_machine::apply(bool deliver, bool done, std::string_view payload) {
    if (!follow_)
        return deliver ? finish(end_reason::delivered, payload) : read(read_purpose::after_update);
    if (deliver)
        return emit(done, payload);
    update_reading_ = true;
    reading_done_ = done;
    return read(read_purpose::after_update);
}

// A following watch's event; "done" is its last.
action watch_machine::emit(bool done, std::string_view data) {
    then_ = done ? then::end_after_done : then::drain;
    return {
        .type = action::kind::event, .event_type = done ? done_event : update_event, .text = data};
}

action watch_machine::timer_fired() {
    if (phase_ == phase::idle || phase_ == phase::finished)
        return {};
    return finish(end_reason::timed_out);
}

action watch_machine::shutdown() {
    if (phase_ == phase::idle || phase_ == phase::finished)
        return {};
    return finish(end_reason::shutting_down);
}

void watch_machine::cancel() {
    // held_ stays: the action being performed may still point into it.
    phase_ = phase::finished;
    then_ = then::nothing;
    backlog_.clear();
}

action watch_machine::next() {
    if (phase_ == phase::finished)
        return {};
    switch (std::exchange(then_, then::nothing)) {
    case then::nothing:
        return {};
    case then::initial_event:
        then_ = then::drain;
        return {.type = action::kind::event, .event_type = update_event, .text = held_};
    case then::end_after_done:
        return finish(end_reason::delivered);
    case then::drain:
        break;
    }
    if (backlog_.empty() || (follow_ && (update_reading_ || update_unread_)))
        return {};
    queued q = std::move(backlog_.front());
    backlog_.erase(backlog_.begin());
    held_ = std::move(q.payload);
    return apply(q.deliver, q.done, held_);
}

action watch_machine::read(read_purpose purpose) {
    return {.type = action::kind::read, .purpose = purpose};
}

action watch_machine::finish(end_reason reason, std::string_view text) {
    phase_ = phase::finished;
    then_ = then::nothing;
    backlog_.clear();
    return {.type = action::kind::finish, .reason = reason, .text = text};
}

} // namespace rpd::tasks
