// beast::test::stream as an http::byte_stream, so the unit and fuzz tests
// drive the daemon's own session class.
#pragma once

#include "redis_push/http/byte_stream.hpp"

#include <boost/beast/_experimental/test/stream.hpp>

#include <memory>

namespace rpd::testing {

class test_stream_impl final : public http::byte_stream::impl {
public:
    explicit test_stream_impl(boost::beast::test::stream s) : stream_(std::move(s)) {}

    http::byte_stream::executor_type executor() override { return stream_.get_executor(); }
    void read_some(boost::asio::mutable_buffer b, http::byte_stream::io_handler h) override {
        stream_.async_read_some(b, std::move(h));
    }
    void write_some(boost::asio::const_buffer b, http::byte_stream::io_handler h) override {
        stream_.async_write_some(b, std::move(h));
    }
    void read_some(boost::asio::mutable_buffer b,
                   std::shared_ptr<http::byte_stream::receiver> r) override {
        stream_.async_read_some(b, [r = std::move(r)](const boost::system::error_code& ec,
                                                      std::size_t n) { r->on_read(ec, n); });
    }
    void write_some(boost::asio::const_buffer b,
                    std::shared_ptr<http::byte_stream::receiver> r) override {
        stream_.async_write_some(b, [r = std::move(r)](const boost::system::error_code& ec,
                                                       std::size_t n) { r->on_written(ec, n); });
    }
    void close() override { stream_.close(); }
    void reset_on_close() override {}

private:
    boost::beast::test::stream stream_;
};

inline http::byte_stream make_test_stream(boost::beast::test::stream s) {
    return http::byte_stream(std::make_unique<test_stream_impl>(std::move(s)));
}

} // namespace rpd::testing
