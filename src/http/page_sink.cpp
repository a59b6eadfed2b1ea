#include "redis_push/http/page_sink.hpp"

namespace rpd::http {

void page_sink::ended(feed::end_reason reason, std::string_view value) {
    if (!feed::is_answer(reason) || gap_.empty())
        return answer_unopened(out_, reason, value);
    const auto header = "X-Stream-Gap: " + gap_ + "\r\n";
    out_.respond_with(200, value, result_of(reason), "application/json", header);
}

} // namespace rpd::http
