#pragma once

#include "redis_push/http/byte_stream.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace rpd::http {

// A client's TCP socket as a byte_stream.
byte_stream make_tcp_stream(boost::asio::ip::tcp::socket socket);

} // namespace rpd::http
