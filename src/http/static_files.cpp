#include "redis_push/http/static_files.hpp"

#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace rpd::http {

namespace {
std::string_view content_type_of(std::string_view path) {
    const auto dot = path.rfind('.');
    const std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
    if (ext == "html" || ext == "htm")
        return "text/html; charset=utf-8";
    if (ext == "js" || ext == "mjs")
        return "text/javascript; charset=utf-8";
    if (ext == "css")
        return "text/css; charset=utf-8";
    if (ext == "json")
        return "application/json";
    if (ext == "png")
        return "image/png";
    if (ext == "svg")
        return "image/svg+xml";
    if (ext == "ico")
        return "image/x-icon";
    if (ext == "txt")
        return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

bool safe_path(std::string_view path) {
    if (path.empty() || path.front() != '/')
        return false;
    // No encoded bytes, no backslashes, no dot segments, no hidden files.
    if (path.find_first_of("%\\") != std::string_view::npos)
        return false;
    return path.find("/.") == std::string_view::npos && path.find("//") == std::string_view::npos;
}
} // namespace

std::optional<static_files::file> static_files::lookup(std::string_view path) const {
    if (!enabled() || !safe_path(path))
        return std::nullopt;
    std::string full = root_;
    full.append(path);
    if (path.back() == '/')
        full.append("index.html");
    struct stat st {};
    if (::stat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        return std::nullopt;
    std::ifstream in(full, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::ostringstream content;
    content << in.rdbuf();
    return file{content.str(), content_type_of(full)};
}

} // namespace rpd::http
