#include "redis_push/http/cors.hpp"

#include <algorithm>

namespace rpd::http {

cors_policy::cors_policy(std::vector<std::string> origins) : origins_(std::move(origins)) {
    any_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool cors_policy::allows(std::string_view origin) const {
    if (origin.empty() || origins_.empty())
        return false;
    if (any_)
        return true;
    return std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

} // namespace rpd::http
