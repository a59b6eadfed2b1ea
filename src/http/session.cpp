#include "redis_push/http/session_impl.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace rpd::http {
template class session<boost::asio::ip::tcp::socket>;
}
