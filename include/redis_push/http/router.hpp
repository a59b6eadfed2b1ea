#pragma once

#include "redis_push/http/endpoint.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace rpd::http {

// Path -> endpoint. Knows no resource: the wiring (app/) registers each
// endpoint under an exact path or a path prefix; the longest matching
// prefix wins, an exact path before any prefix; anything else goes to the
// fallback (static files, else 404).
class router {
public:
    void add_exact(std::string path, endpoint& e);
    void add_prefix(std::string prefix, endpoint& e);
    void set_fallback(endpoint& e) { fallback_ = &e; }

    // Null only when nothing matches and there is no fallback.
    endpoint* resolve(std::string_view path) const;

private:
    struct entry {
        std::string path;
        endpoint* target;
    };
    std::vector<entry> exact_;
    std::vector<entry> prefixes_; // longest first
    endpoint* fallback_ = nullptr;
};

} // namespace rpd::http
