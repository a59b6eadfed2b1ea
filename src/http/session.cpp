// http::session, first part: the keep-alive read loop and the dispatch of a
// request to its endpoint.

#include "redis_push/http/session.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

namespace rpd::http {

namespace {
method method_of(boost::beast::http::verb v) {
    using boost::beast::http::verb;
    switch (v) {
    case verb::get:
        return method::get;
    case verb::head:
        return method::head;
    case verb::options:
        return method::options;
    case verb::post:
        return method::post;
    default:
        return method::other;
    }
}

} // namespace

session::session(byte_stream stream, context& ctx)
    : stream_(std::move(stream)), ctx_(ctx), slot_(std::in_place, ctx.metrics.connections_open),
      deadline_(stream_.get_executor()) {
    ctx_.sessions.push_back(*this);
}

session::~session() {
    feed_.reset();
    sink_.reset(); // before the members it reports to (the gauges) go
}

void session::run() {
    read_request();
}

void session::shutdown() {
    if (state_ == state::reading)
        close();
    // Otherwise the answer in progress goes out first; after_response()
    // closes because ctx_.shutting_down is set.
}

void session::read_request() {
    state_ = state::reading;
    if (buffer_.size() > 0) // a pipelined request is already here
        return read_head();
    // Nothing yet: this is the idle (keep-alive) wait, or for a new
    // connection the wait for its first request.
    deadline_.set_in(first_request_ ? ctx_.http.request_timeout : ctx_.http.idle_timeout,
                     shared_from_this());
    if (!probing_)
        start_probe(read_chunk);
}

void session::start_probe(std::size_t chunk) {
    if (probing_ || state_ == state::closed || buffer_.size() > 0)
        return;
    probing_ = true;
    stream_.read_some_into(buffer_.prepare(chunk), shared_from_this());
}

void session::on_bytes(const boost::system::error_code& ec, std::size_t n) {
    probing_ = false;
    if (state_ == state::closed)
        return;
    if (ec) // EOF or reset: the client is gone. A pending feed goes with it.
        return drop_client();
    buffer_.commit(n);
    if (state_ == state::reading)
        return read_head();
    // A request pipelined behind one still being answered: keep it for
    // later and stop probing, so that no read is pending when the next
    // head is parsed (test streams cannot cancel one). Such a client's
    // departure shows up at the next keepalive write instead.
}

void session::read_head() {
    first_request_ = false;
    deadline_.set_in(ctx_.http.request_timeout, shared_from_this()); // from the first byte
    // On the heap and only while a request is read: a held feed keeps none.
    parser_ = std::make_unique<request_parser>();
    parser_->header_limit(ctx_.http.max_header_bytes);
    boost::beast::http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
            self->on_head(ec);
        });
}

void session::on_head(const boost::system::error_code& ec) {
    namespace bhttp = boost::beast::http;
    if (state_ == state::closed)
        return;
    // Nothing of the previous request may leak into this one's answer.
    sink_.reset();
    head_only_ = false;
    always_200_ = false;
    may_wait_ = false;
    cors_origin_.clear();
    // The state stays `reading` until the request (body included) is in:
    // the request deadline still closes a client that stops half-way.
    if (ec)
        return reject(ec);
    const auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    http10_ = req.version() < 11;
    // A Transfer-Encoding that does not end in chunked leaves the body's end
    // unknowable (RFC 9112 6.3): a proxy in front may frame it differently,
    // so answering could act on a smuggled request.
    if (!parser_->chunked() && req.find(bhttp::field::transfer_encoding) != req.end())
        return reject(bhttp::error::bad_transfer_encoding);
    if (parser_->is_done())
        return on_request();
    // A body follows. It is read whole, and its framing must be sound,
    // before anything is acted on (RFC 9112: a message with invalid
    // framing is malformed). Only a POST's body is used (a publish); after
    // any other the connection closes, as it always did.
    if (req.method() != bhttp::verb::post)
        keep_alive_ = false;
    parser_->body_limit(ctx_.max_body_bytes);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](const boost::system::error_code& e, std::size_t) {
                          if (self->state_ == state::closed)
                              return;
                          if (e)
                              return self->reject(e);
                          self->on_request();
                      });
}

void session::reject(const boost::system::error_code& ec) {
    namespace bhttp = boost::beast::http;
    state_ = state::handling;
    parser_.reset();
    deadline_.clear();
    keep_alive_ = false;
    mode_ = request_mode::other;
    if (ec == bhttp::error::header_limit || ec == bhttp::error::body_limit)
        return respond_error(ec == bhttp::error::header_limit ? 431 : 413, "Request too large",
                             request_result::too_large);
    if (ec == bhttp::error::end_of_stream || ec == boost::asio::error::eof ||
        ec == boost::asio::error::operation_aborted || ec == boost::asio::error::connection_reset)
        return close();
    respond_error(400, "Bad Request", request_result::bad_request);
}

void session::on_request() {
    deadline_.clear(); // the request is in; what follows sets its own
    const auto& req = parser_->get();
    if (ctx_.live.cors.enabled()) {
        const auto origin = req[boost::beast::http::field::origin];
        if (ctx_.live.cors.allows(origin))
            cors_origin_.assign(origin.data(), origin.size());
    }
    request r = make_request(method_of(req.method()), req.target(), &req.base());
    if (r.verb == method::post)
        r.body = req.body();
    dispatch(r);
}

void session::dispatch(const request& r) {
    head_only_ = r.verb == method::head;
    mode_ = head_only_ ? request_mode::head : request_mode::poll;
    state_ = state::handling;
    endpoint* e = ctx_.routes.resolve(r.path);
    if (e == nullptr) {
        mode_ = request_mode::other;
        return respond_error(404, "Not Found", request_result::unknown_path);
    }
    // The request's views live in the parser: valid while serve() runs.
    request_ = &r;
    e->serve(*this);
    request_ = nullptr;
}

} // namespace rpd::http
