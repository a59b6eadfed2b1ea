#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rpd::http {

// http.static_dir: a few files (a demo page and its script) served as they
// are. Off unless configured. Only plain, already-normalised paths are
// accepted, so nothing outside the folder can be named.
class static_files {
public:
    explicit static_files(std::string root) : root_(std::move(root)) {}

    bool enabled() const { return !root_.empty(); }

    struct file {
        std::string content;
        std::string_view content_type;
    };
    // `path` is the request target's path (no query).
    std::optional<file> lookup(std::string_view path) const;

private:
    std::string root_;
};

} // namespace rpd::http
