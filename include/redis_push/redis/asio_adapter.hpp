#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <memory>

struct redisAsyncContext;

namespace rpd::redis {

// Drives one hiredis async context from an Asio io_context.
//
// Ownership: the hiredis context owns the adapter (through `self_`), exactly
// like hiredis' own libevent adapter owns its event struct; hiredis calls
// `cleanup` when it frees the context and the adapter lets go of itself
// there. Every pending wait also holds a shared_ptr, so a cleanup that runs
// inside our own read handler (a read error disconnects) never destroys the
// object under our feet. hiredis owns the file descriptor: we only ever
// `release()` it, never close it.
class asio_adapter : public std::enable_shared_from_this<asio_adapter> {
public:
    // Hooks the context's event callbacks. Must run before
    // redisAsyncSetConnectCallback (hiredis arms the first write there).
    static bool attach(boost::asio::io_context& ioc, redisAsyncContext* ctx);

    asio_adapter(boost::asio::io_context& ioc, redisAsyncContext* ctx, int fd);

private:
    static void add_read(void* self);
    static void del_read(void* self);
    static void add_write(void* self);
    static void del_write(void* self);
    static void cleanup(void* self);

    void arm_read();
    void arm_write();

    boost::asio::posix::stream_descriptor descriptor_;
    redisAsyncContext* context_;
    bool want_read_ = false;
    bool want_write_ = false;
    bool read_pending_ = false;
    bool write_pending_ = false;
    std::shared_ptr<asio_adapter> self_;
};

} // namespace rpd::redis
