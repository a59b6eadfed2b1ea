#pragma once

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/fields.hpp>

#include <string_view>

namespace rpd::http {

enum class method { get, head, options, post, other };

// The request an endpoint answers: views into the parsed head, valid only
// while the endpoint's serve() runs.
struct request {
    method verb = method::other;
    std::string_view target; // as sent: path and query
    std::string_view path;   // before the first '?'
    std::string_view query;  // after it; empty when there is none (see has_query)
    bool has_query = false;
    const boost::beast::http::fields* headers = nullptr;
    std::string_view body; // at most context::max_body_bytes

    std::string_view header(boost::beast::http::field f) const {
        if (headers == nullptr)
            return {};
        const auto it = headers->find(f);
        return it == headers->end() ? std::string_view{} : std::string_view(it->value());
    }
    // A header Beast has no field constant for (Last-Event-ID).
    std::string_view header(std::string_view name) const {
        if (headers == nullptr)
            return {};
        const auto it = headers->find(name);
        return it == headers->end() ? std::string_view{} : std::string_view(it->value());
    }
};

// Splits a request target into path and query.
request make_request(method verb, std::string_view target,
                     const boost::beast::http::fields* headers);

} // namespace rpd::http
