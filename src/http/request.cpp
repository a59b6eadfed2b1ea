#include "redis_push/http/request.hpp"

namespace rpd::http {

request make_request(method verb, std::string_view target,
                     const boost::beast::http::fields* headers) {
    request r;
    r.verb = verb;
    r.target = target;
    const auto question = target.find('?');
    r.path = target.substr(0, question);
    r.has_query = question != std::string_view::npos;
    if (r.has_query)
        r.query = target.substr(question + 1);
    r.headers = headers;
    return r;
}

} // namespace rpd::http
