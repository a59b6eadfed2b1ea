#include "redis_push/http/item_sink.hpp"

namespace rpd::http {

void item_sink::event(std::string_view type, std::string_view data, std::string_view id) {
    if (type == "length") { // a HEAD's answer: the queue's length, no body
        headers_.assign("X-Queue-Length: ").append(data).append("\r\n");
        json_ = true;
        return;
    }
    body_.assign(data);
    json_ = type == "json";
    headers_.clear();
    if (!id.empty())
        headers_.append("X-Delivery-Id: ").append(id).append("\r\n");
}

void item_sink::ended(feed::end_reason reason, std::string_view value) {
    if (!feed::is_answer(reason))
        return answer_unopened(out_, reason, value); // an unsettled receipt goes back here
    out_.keep_until_written(std::move(receipt_));
    out_.respond_with(feed::describe(reason).status, body_, result_of(reason),
                      json_ ? "application/json" : "text/plain; charset=utf-8", headers_);
}

} // namespace rpd::http
