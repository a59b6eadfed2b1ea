#pragma once

#include "redis_push/http/request.hpp"
#include "redis_push/tasks/task_signer.hpp"

#include <string_view>

namespace rpd::endpoints {

// The publish gate of MODES.md 6: with a signing secret (`signer` set) a
// publish to `name` must carry `Authorization: Bearer <HMAC(secret,
// "publish:" + name)>`; without one, anyone may publish.
bool publish_allowed(const http::request& req, const tasks::task_signer* signer,
                     std::string_view name);

} // namespace rpd::endpoints
