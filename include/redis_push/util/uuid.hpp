#pragma once

#include <array>
#include <random>
#include <string_view>

namespace rpd::util {

// A random (version 4) UUID in its 36-character text form. Watches only
// need ids that never collide across daemons, not secrecy.
class uuid_generator {
public:
    uuid_generator();
    std::array<char, 36> next();

private:
    std::mt19937_64 engine_;
};

inline std::string_view view(const std::array<char, 36>& uuid) {
    return {uuid.data(), uuid.size()};
}

} // namespace rpd::util
