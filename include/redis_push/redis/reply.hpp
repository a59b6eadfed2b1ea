#pragma once

#include <cstddef>
#include <iterator>
#include <string_view>

struct redisReply;

namespace rpd::redis {

// The answer to one command: a view over hiredis' reply, valid only while
// the handler runs. Nothing is copied, which saves a copy of every value on
// its way to a client, and nothing is allocated, arrays included: an
// element is viewed only when asked for.
struct reply {
    enum class kind {
        value,       // a bulk string or status (value holds it)
        nil,         // the key does not exist (also a nil array, a nil element)
        integer,     // e.g. PUBLISH's receiver count (in `integer`)
        error,       // Redis answered with an error (value holds the text)
        unavailable, // not sent, or the connection was lost before the answer
        array        // e.g. LRANGE, XRANGE: size() elements, each a reply
    };

    class iterator;

    reply() = default;
    // A null reply is hiredis' way of saying the connection went away.
    explicit reply(const redisReply* r);

    kind type = kind::unavailable;
    std::string_view value;
    long long integer = 0;

    // The elements of an array; no elements for every other kind.
    std::size_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    // i < size().
    reply operator[](std::size_t i) const;
    iterator begin() const;
    iterator end() const;

private:
    redisReply* const* elements_ = nullptr;
    std::size_t count_ = 0;
};

class reply::iterator {
public:
    using iterator_category = std::input_iterator_tag;
    using value_type = reply;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = reply;

    iterator() = default;
    // Over hiredis' element array, not the reply: an iterator may outlive
    // the (temporary) reply it came from, as long as the handler runs.
    iterator(redisReply* const* elements, std::size_t index) : elements_(elements), index_(index) {}

    reply operator*() const { return reply(elements_[index_]); }
    iterator& operator++() {
        ++index_;
        return *this;
    }
    iterator operator++(int) {
        iterator before = *this;
        ++index_;
        return before;
    }
    bool operator==(const iterator& other) const { return index_ == other.index_; }

private:
    redisReply* const* elements_ = nullptr;
    std::size_t index_ = 0;
};

// The key holds another Redis type (also when a script's call hit it).
inline bool is_wrong_type(const reply& r) {
    return r.type == reply::kind::error && r.value.find("WRONGTYPE") != std::string_view::npos;
}

} // namespace rpd::redis
