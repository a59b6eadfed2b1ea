#include "redis_push/http/batch_sink.hpp"

namespace rpd::http {

void batch_sink::event(std::string_view, std::string_view data, std::string_view id) {
    if (body_.size() > 1)
        body_.push_back(',');
    body_.append(data);
    offset_.assign(id);
}

void batch_sink::ended(feed::end_reason reason, std::string_view value) {
    if (!feed::is_answer(reason))
        return answer_unopened(out_, reason, value);
    body_.push_back(']');
    std::string headers;
    if (!offset_.empty())
        headers.append("X-Stream-Offset: ").append(offset_).append("\r\n");
    if (!gap_.empty())
        headers.append("X-Stream-Gap: ").append(gap_).append("\r\n");
    out_.respond_with(200, body_, result_of(reason), "application/json", headers);
}

} // namespace rpd::http
