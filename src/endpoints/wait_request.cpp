#include "redis_push/endpoints/wait_request.hpp"

#include "redis_push/endpoints/query_params.hpp"

namespace rpd::endpoints {

std::optional<wait_request> parse_wait_request(std::string_view query,
                                               std::chrono::seconds fallback,
                                               std::chrono::seconds max) {
    const auto params = parse_query(query);
    if (!params)
        return std::nullopt;
    wait_request out{fallback, false};
    for (const auto& p : *params) {
        if (p.name == "timeout") {
            const auto n = parse_count(p.value, static_cast<std::uint64_t>(max.count()));
            if (!n)
                return std::nullopt;
            out.wait = std::chrono::seconds(*n);
        } else if (p.name == "ack") {
            out.acknowledged = true;
        }
    }
    return out;
}

} // namespace rpd::endpoints
