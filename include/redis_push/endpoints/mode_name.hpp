#pragma once

#include "redis_push/http/endpoint.hpp"
#include "redis_push/tasks/task_signer.hpp"

#include <optional>
#include <regex>
#include <string>
#include <string_view>

namespace rpd::endpoints {

// The name rule of every mode (MODES.md 0): one path segment, percent-
// decoded once; with a signing secret `<name>.<sig>`, the signature over
// `<purpose>:<name>` so that one mode's signature never opens another.
class mode_names {
public:
    mode_names(const std::string& pattern, const tasks::task_signer* signer, std::string purpose);

    struct result {
        enum class kind { ok, invalid_name, invalid_signature } type = kind::invalid_name;
        std::string name; // decoded, signature removed
    };
    // `segment` as it stands in the URL (or a WebSocket message: then
    // `encoded` is false and nothing is decoded).
    result resolve(std::string_view segment, bool encoded = true) const;

private:
    std::regex pattern_;
    const tasks::task_signer* signer_;
    std::string purpose_; // "stream:", "queue:", "mailbox:"
};

// The name a request's path segment stands for; nullopt once the request
// is answered 400 `Invalid name` or 403 `Invalid signature`.
std::optional<std::string> resolve_or_refuse(const mode_names& names, http::exchange& ex,
                                             std::string_view segment);

} // namespace rpd::endpoints
