#include "redis_push/http/router.hpp"

#include <algorithm>

namespace rpd::http {

void router::add_exact(std::string path, endpoint& e) {
    exact_.push_back({std::move(path), &e});
}

void router::add_prefix(std::string prefix, endpoint& e) {
    prefixes_.push_back({std::move(prefix), &e});
    std::stable_sort(prefixes_.begin(), prefixes_.end(),
                     [](const entry& a, const entry& b) { return a.path.size() > b.path.size(); });
}

endpoint* router::resolve(std::string_view path) const {
    for (const auto& e : exact_)
        if (e.path == path)
            return e.target;
    for (const auto& e : prefixes_)
        if (path.starts_with(e.path))
            return e.target;
    return fallback_;
}

} // namespace rpd::http
