#pragma once

#include "redis_push/http/endpoint.hpp"
#include "redis_push/http/static_files.hpp"

#include <functional>
#include <string>

namespace rpd::endpoints {

// GET and HEAD only, as every read-only resource here.
bool read_only_method(http::method m);

// /healthz: 200 {"redis":"up"} or 503 {"redis":"down"}.
class health_endpoint final : public http::endpoint {
public:
    explicit health_endpoint(std::function<bool()> redis_up) : redis_up_(std::move(redis_up)) {}
    void serve(http::exchange& ex) override;

private:
    std::function<bool()> redis_up_;
};

// /metrics: the Prometheus text.
class metrics_endpoint final : public http::endpoint {
public:
    explicit metrics_endpoint(std::function<std::string()> render) : render_(std::move(render)) {}
    void serve(http::exchange& ex) override;

private:
    std::function<std::string()> render_;
};

// Every path no other endpoint has: a file of http.static_dir, else 404.
class fallback_endpoint final : public http::endpoint {
public:
    explicit fallback_endpoint(const http::static_files& files) : files_(files) {}
    void serve(http::exchange& ex) override;

private:
    const http::static_files& files_;
};

} // namespace rpd::endpoints
