#include "redis_push/redis/reply.hpp"

#include <hiredis/hiredis.h>

namespace rpd::redis {

reply::reply(const redisReply* r) {
    if (r == nullptr)
        return; // unavailable
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        type = kind::value;
        value = std::string_view(r->str, r->len);
        break;
    case REDIS_REPLY_NIL:
        type = kind::nil;
        break;
    case REDIS_REPLY_INTEGER:
        type = kind::integer;
        integer = r->integer;
        break;
    case REDIS_REPLY_ERROR:
        type = kind::error;
        value = std::string_view(r->str, r->len);
        break;
    case REDIS_REPLY_ARRAY:
        type = kind::array;
        elements_ = r->element;
        count_ = r->elements;
        break;
    default:
        type = kind::error;
        value = "unexpected reply type";
    }
}

reply reply::operator[](std::size_t i) const {
    return reply(elements_[i]);
}

reply::iterator reply::begin() const {
    return {elements_, 0};
}

reply::iterator reply::end() const {
    return {elements_, count_};
}

} // namespace rpd::redis
