#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rpd::http {

// http.cors_origins: exact origin matches, "*" matching any origin. The
// reply always echoes the request's own Origin (never "*"), so it works
// with credentials too; hence the Vary: Origin that goes with it.
class cors_policy {
public:
    explicit cors_policy(std::vector<std::string> origins);

    bool enabled() const { return !origins_.empty(); }
    bool allows(std::string_view origin) const;

private:
    std::vector<std::string> origins_;
    bool any_ = false;
};

} // namespace rpd::http
