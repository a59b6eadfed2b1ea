#pragma once

#include <boost/intrusive/list.hpp>

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

} // namespace rpd::http
