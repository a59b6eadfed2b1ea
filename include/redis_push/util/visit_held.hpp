#pragma once

#include <memory>
#include <vector>

namespace rpd::util {

// Visits every object of a map of raw pointers to objects that are owned
// elsewhere (shared, enable_shared_from_this), holding them all for the
// visit: a visit may end the last owner of one, which removes it from the
// map, and the iteration must not stand on it then.
template <class Map, class Fn> void visit_held(const Map& map, Fn fn) {
    using object = std::remove_pointer_t<typename Map::mapped_type>;
    std::vector<std::shared_ptr<object>> all;
    all.reserve(map.size());
    for (const auto& [key, p] : map)
        all.push_back(p->shared_from_this());
    for (auto& p : all)
        fn(*p);
}

} // namespace rpd::util
