#pragma once

#include "redis_push/feed/end_reason.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rpd::tasks {

// The task watch protocol (PROTOCOL.md "Watch", MODES.md "Tasks over SSE")
// without any I/O, so every transition is tested without Redis or sockets:
// the shell (tasks::watch) feeds it what happened and performs the actions
// it returns, then asks next() for the following one until none is left.
//
//   start -> subscribe -> subscribed -> read(initial) -> publish_kill
//         -> publish_reply -> open -> waiting for messages, timer, recheck
//
// One-shot (follow = false): the first answer ends the watch. Follow: every
// state of the task is an event until "done", a kill, a time-out or the end.
//
// Lifetime of an action's text: it points into the input of the call that
// returned the action (a message, a reply's value) or into the machine, and
// stays valid until the next call into the machine other than cancel() (and
// as long as the caller keeps that input).
class watch_machine {
public:
    enum class read_purpose : std::uint8_t { initial, after_update, after_reconnect };

    // A GET's answer, detached from the Redis layer.
    struct read_result {
        enum class kind : std::uint8_t { value, nil, error, unavailable };
        kind type = kind::unavailable;
        std::string_view value;
    };

    struct action {
        enum class kind : std::uint8_t {
            none,         // nothing until the next input
            subscribe,    // take a share of the channel; subscribed() once Redis confirms it
            read,         // GET the data key; read_reply(purpose, ...) with its answer
            publish_kill, // PUBLISH this watch's kill message; publish_reply() with the answer
            open,         // established: start the time limit, sink.opened()
            event,        // sink.event(event_type, text)
            ignored,      // text is a channel message that means nothing (worth a debug line)
            finish,       // release everything, then sink.ended(reason, text)
        };
        kind type = kind::none;
        read_purpose purpose = read_purpose::initial;      // read
        feed::end_reason reason = feed::end_reason::found; // finish
        std::string_view event_type{};                     // event: "update" or "done"
        std::string_view text{};                           // event, ignored, finish

        explicit operator bool() const { return type != kind::none; }
    };

    // `uuid` names this watch in kill messages; it must outlive the machine.
    watch_machine(bool follow, std::string_view uuid);

    action start(bool redis_ready, bool shutting_down);
    action subscribed();
    action read_reply(read_purpose purpose, const read_result& r);
    // `published`: Redis took the PUBLISH (an integer reply).
    action publish_reply(bool published);
    action message(std::string_view payload);
    action timer_fired();
    // Redis came back: read the data key again.
    action recheck();
    action shutdown();
    // The consumer left: no action ever again.
    void cancel();
    // The action that follows the one just performed.
    action next();

    bool established() const { return phase_ == phase::waiting; }
    bool finished() const { return phase_ == phase::finished; }

private:
    enum class phase : std::uint8_t { idle, subscribing, reading, announcing, waiting, finished };
    // What next() goes on with.
    enum class then : std::uint8_t { nothing, initial_event, drain, end_after_done };

    struct queued {
        std::string payload;
        bool deliver; // carries its data; else the data key is read
        bool done;
    };

    action read(read_purpose purpose);
    action initial_read(const read_result& r);
    action apply(bool deliver, bool done, std::string_view payload);
    action emit(bool done, std::string_view data);
    action finish(feed::end_reason reason, std::string_view text = {});
    bool follow_busy() const;

    bool follow_;
    std::string_view uuid_;
    phase phase_ = phase::idle;
    then then_ = then::nothing;
    // Redis delivers a channel's messages in publish order. A kill that
    // arrives after our own came back was published after ours: a newer
    // watch. One that arrives before it is from an older watch and ignored.
    bool killable_ = false;
    // An update could not be read (command connection down): read again
    // when the connection is back, as if the update came then.
    bool update_unread_ = false;
    // Follow: an update's read is in flight, and later messages wait for
    // it so that events keep the order of the messages.
    bool update_reading_ = false;
    bool reading_done_ = false; // follow: that update's status was "done"
    // Updates that arrived before the watch was established (one-shot: the
    // latest only), or, following, while an earlier one was being read.
    std::vector<queued> backlog_;
    // Text an action points into: the value read at start (the first event
    // when following), or a message taken from the backlog.
    std::string held_;
};

} // namespace rpd::tasks
