#include "redis_push/endpoints/publish_token.hpp"

#include <string>

namespace rpd::endpoints {

bool publish_allowed(const http::request& req, const tasks::task_signer* signer,
                     std::string_view name) {
    if (signer == nullptr)
        return true;
    constexpr std::string_view bearer = "Bearer ";
    const auto auth = req.header(boost::beast::http::field::authorization);
    std::string purpose = "publish:";
    purpose.append(name);
    return auth.starts_with(bearer) && signer->verify(purpose, auth.substr(bearer.size()));
}

} // namespace rpd::endpoints
