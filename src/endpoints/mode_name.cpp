#include "redis_push/endpoints/mode_name.hpp"

#include "redis_push/endpoints/query_params.hpp"

namespace rpd::endpoints {

mode_names::mode_names(const std::string& pattern, const tasks::task_signer* signer,
                       std::string purpose)
    : pattern_(pattern, std::regex::ECMAScript | std::regex::optimize), signer_(signer),
      purpose_(std::move(purpose)) {}

mode_names::result mode_names::resolve(std::string_view segment, bool encoded) const {
    using kind = result::kind;
    std::optional<std::string> decoded =
        encoded ? percent_decode(segment, false) : std::optional<std::string>(segment);
    if (!decoded)
        return {kind::invalid_name, {}};
    std::string name = std::move(*decoded);
    std::string_view signature;
    std::string whole;
    if (signer_ != nullptr) {
        whole = std::move(name);
        const auto parts = tasks::task_signer::split(whole);
        name.assign(parts.id);
        signature = parts.signature;
    }
    if (!std::regex_match(name, pattern_))
        return {kind::invalid_name, {}};
    if (signer_ != nullptr && !signer_->verify(purpose_ + name, signature))
        return {kind::invalid_signature, {}};
    return {kind::ok, std::move(name)};
}

std::optional<std::string> resolve_or_refuse(const mode_names& names, http::exchange& ex,
                                             std::string_view segment) {
    auto r = names.resolve(segment);
    using kind = mode_names::result::kind;
    if (r.type == kind::invalid_name) {
        ex.respond_error(400, "Invalid name", http::request_result::invalid_name);
        return std::nullopt;
    }
    if (r.type == kind::invalid_signature) {
        ex.respond_error(403, "Invalid signature", http::request_result::invalid_signature);
        return std::nullopt;
    }
    return std::move(r.name);
}

} // namespace rpd::endpoints
