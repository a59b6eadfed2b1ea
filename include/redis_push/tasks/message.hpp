#pragma once

#include <string>
#include <string_view>

namespace rpd::tasks {

// What a message on a task's status channel asks a waiting watch to do.
struct channel_message {
    enum class kind {
        ignore,  // not JSON, not an object, unknown or non-string status
        deliver, // update/done carrying a non-null "data": the message is the answer
        reread,  // update/done without data: the data key is the answer
        kill,    // a watch somewhere announced itself
    };
    kind type = kind::ignore;
    // deliver/reread only: the status is "done" rather than "update"; a
    // streaming watch names its event after it.
    bool done = false;
    bool has_src = false; // kill only: "src" present and a string
    std::string src;
};

channel_message classify_message(std::string_view payload);

// What a data key's value says about its task.
struct value_info {
    bool valid_json = false;
    bool done = false; // an object whose "status" is "done"
};

value_info inspect_value(std::string_view value);

// The kill message this daemon publishes for a watch.
std::string kill_message(std::string_view watch_uuid);

} // namespace rpd::tasks
