#include "redis_push/http/long_poll_sink.hpp"

#include "redis_push/http/context.hpp"
#include "redis_push/http/response.hpp"

namespace rpd::http {

void long_poll_sink::opened() {
    if (out_.streaming())
        return;
    out_.begin_stream("application/json", {}, &out_.live().watch_keepalive,
                      {keepalive_chunk, keepalive_bare});
}

void long_poll_sink::ended(feed::end_reason reason, std::string_view value) {
    if (!out_.streaming())
        return answer_unopened(out_, reason, value);
    // Established: the status is out (200); the body says what happened.
    if (feed::is_answer(reason))
        return out_.end_stream(value, result_of(reason));
    out_.end_stream(error_body(feed::describe(reason).error_text), result_of(reason));
}

} // namespace rpd::http
