#pragma once

#include "redis_push/config/config.hpp"
#include "redis_push/http/cors.hpp"
#include "redis_push/http/request_metrics.hpp"
#include "redis_push/http/router.hpp"
#include "redis_push/http/static_files.hpp"
#include "redis_push/tasks/task_id.hpp"
#include "redis_push/tasks/task_service.hpp"

#include <boost/intrusive/list.hpp>

#include <functional>
#include <memory>
#include <string>

namespace rpd::http {

// The part of a session the server can reach from outside: the list of
// open sessions exists for shutdown.
class session_base {
public:
    // Stop after the current response: close at once when idle.
    virtual void shutdown() = 0;
    // Close now, whatever is going on.
    virtual void abort() = 0;

    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>
        hook;

protected:
    ~session_base() = default;
};

using session_list = boost::intrusive::list<
    session_base,
    boost::intrusive::member_hook<session_base, decltype(session_base::hook), &session_base::hook>,
    boost::intrusive::constant_time_size<false>>;

// Everything a session needs, shared by all sessions; owned by the server.
struct context {
    context(const config::settings& s, tasks::task_service& task_service,
            std::function<bool()> redis_up, std::function<std::string()> render_metrics)
        : http(s.http), keepalive(s.watch.keepalive),
          validator(s.task.id_pattern, s.task.max_id_length),
          signer(s.task.signing_secret.empty()
                     ? nullptr
                     : std::make_unique<tasks::task_signer>(s.task.signing_secret,
                                                            s.task.signature_bytes)),
          routes(validator, signer.get()), cors(s.http.cors_origins), statics(s.http.static_dir),
          tasks(task_service), redis_up(std::move(redis_up)),
          render_metrics(std::move(render_metrics)) {}

    const config::http_settings& http;
    std::chrono::seconds keepalive; // may change on SIGHUP
    tasks::task_id_validator validator;
    std::unique_ptr<tasks::task_signer> signer; // null: ids are not signed
    router routes;
    cors_policy cors; // may change on SIGHUP
    static_files statics;
    tasks::task_service& tasks;
    std::function<bool()> redis_up;
    std::function<std::string()> render_metrics;
    request_metrics metrics;
    session_list sessions;
    bool shutting_down = false;
};

} // namespace rpd::http
