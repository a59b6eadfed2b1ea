#include "redis_push/streams/history_service.hpp"

#include <algorithm>

namespace rpd::streams {

feed::handle history_service::read_page(std::string_view name, feed::sink& sink, page_request req) {
    req.limit = std::clamp<std::size_t>(req.limit, 1, settings_.max_limit);
    auto p = std::make_shared<history_page>(*this, key_of(name), sink, std::move(req));
    p->start();
    return feed::handle(std::move(p));
}

std::shared_ptr<history_fetch> history_service::fetch(std::string_view name, feed::sink& sink,
                                                      fetch_request req) {
    auto f = std::make_shared<history_fetch>(*this, key_of(name), sink, std::move(req));
    f->start();
    return f;
}

} // namespace rpd::streams
