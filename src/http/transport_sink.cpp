#include "redis_push/http/transport_sink.hpp"

#include "redis_push/http/batch_sink.hpp"
#include "redis_push/http/item_sink.hpp"
#include "redis_push/http/long_poll_sink.hpp"
#include "redis_push/http/page_sink.hpp"
#include "redis_push/http/sse_sink.hpp"

namespace rpd::http {

std::unique_ptr<transport_sink> make_sink(transport t, held_response& out) {
    switch (t) {
    case transport::sse:
        return std::make_unique<sse_sink>(out);
    case transport::batch:
        return std::make_unique<batch_sink>(out);
    case transport::item:
        return std::make_unique<item_sink>(out);
    case transport::page:
        return std::make_unique<page_sink>(out);
    case transport::long_poll:
        break;
    }
    return std::make_unique<long_poll_sink>(out);
}

void answer_unopened(held_response& out, feed::end_reason reason, std::string_view value) {
    if (feed::is_answer(reason))
        return out.respond(feed::describe(reason).status, value, result_of(reason));
    const auto& d = feed::describe(reason);
    out.respond_error(d.status, d.error_text, result_of(reason));
}

} // namespace rpd::http
