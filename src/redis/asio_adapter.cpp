#include "redis_push/redis/asio_adapter.hpp"

#include <hiredis/async.h>

namespace rpd::redis {

namespace asio = boost::asio;

asio_adapter::asio_adapter(asio::io_context& ioc, redisAsyncContext* ctx, int fd)
    : descriptor_(ioc, fd), context_(ctx) {}

bool asio_adapter::attach(asio::io_context& ioc, redisAsyncContext* ctx) {
    if (ctx->ev.data != nullptr)
        return false;
    auto adapter = std::make_shared<asio_adapter>(ioc, ctx, ctx->c.fd);
    adapter->self_ = adapter;
    ctx->ev.data = adapter.get();
    ctx->ev.addRead = &asio_adapter::add_read;
    ctx->ev.delRead = &asio_adapter::del_read;
    ctx->ev.addWrite = &asio_adapter::add_write;
    ctx->ev.delWrite = &asio_adapter::del_write;
    ctx->ev.cleanup = &asio_adapter::cleanup;
    return true;
}

// hiredis calls addRead after every read and write and addWrite whenever
// output is pending, so both must be idempotent: one wait per direction.
void asio_adapter::add_read(void* self) {
    auto* a = static_cast<asio_adapter*>(self);
    a->want_read_ = true;
    a->arm_read();
}

void asio_adapter::del_read(void* self) {
    static_cast<asio_adapter*>(self)->want_read_ = false;
}

void asio_adapter::add_write(void* self) {
    auto* a = static_cast<asio_adapter*>(self);
    a->want_write_ = true;
    a->arm_write();
}

void asio_adapter::del_write(void* self) {
    static_cast<asio_adapter*>(self)->want_write_ = false;
}

void asio_adapter::cleanup(void* self) {
    auto* a = static_cast<asio_adapter*>(self);
    a->context_ = nullptr;
    a->want_read_ = a->want_write_ = false;
    // release() deregisters the fd and aborts pending waits; hiredis closes it.
    a->descriptor_.release();
    // May destroy *a right here when no wait is pending; nothing touches it after.
    auto last_reference = std::move(a->self_);
}

void asio_adapter::arm_read() {
    if (read_pending_ || context_ == nullptr)
        return;
    read_pending_ = true;
    descriptor_.async_wait(asio::posix::stream_descriptor::wait_read,
                           [self = shared_from_this()](const boost::system::error_code& ec) {
                               self->read_pending_ = false;
                               if (ec || self->context_ == nullptr || !self->want_read_)
                                   return;
                               // May call cleanup (disconnect): `self` keeps us alive.
                               redisAsyncHandleRead(self->context_);
                           });
}

void asio_adapter::arm_write() {
    if (write_pending_ || context_ == nullptr)
        return;
    write_pending_ = true;
    descriptor_.async_wait(asio::posix::stream_descriptor::wait_write,
                           [self = shared_from_this()](const boost::system::error_code& ec) {
                               self->write_pending_ = false;
                               if (ec || self->context_ == nullptr || !self->want_write_)
                                   return;
                               redisAsyncHandleWrite(self->context_);
                           });
}

} // namespace rpd::redis
