#pragma once

#include <boost/container/small_vector.hpp>

#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

struct redisAsyncContext;

namespace rpd::redis {

// hiredis' redisCallbackFn: the reply (null when the context is torn down)
// and the privdata given with the command.
using reply_callback = void (*)(redisAsyncContext* ctx, void* reply, void* privdata);

// The argument vector of one Redis command, in the two parallel arrays
// hiredis wants (pointers and lengths, so arguments may hold any bytes).
//
// add() keeps only a view: the text must outlive the send (hiredis copies
// it into its output buffer right away, so a key living through the call is
// enough). Text made on the fly (numbers, add_copy) is owned here and stays
// valid through growth, copies and moves. Up to 8 arguments and a few
// numbers need no allocation.
class argv {
public:
    argv() = default;
    argv(std::initializer_list<std::string_view> args);
    argv(const argv& other);
    argv(argv&& other) noexcept;
    argv& operator=(const argv& other);
    argv& operator=(argv&& other) noexcept;
    ~argv() = default;

    argv& add(std::string_view arg);
    // A temporary string would be gone before the send: use add_copy.
    template <std::same_as<std::string> T> argv& add(T&&) = delete;
    argv& add_copy(std::string_view arg);
    argv& add_number(long long n);
    // Keeps the capacity, for a loop that sends many commands.
    void clear();

    int size() const { return static_cast<int>(args_.size()); }
    bool empty() const { return args_.empty(); }
    std::string_view operator[](std::size_t i) const { return {args_[i], lens_[i]}; }

    // hiredis takes non-const pointers but only reads them.
    const char** data() const { return const_cast<const char**>(args_.data()); }
    const std::size_t* lengths() const { return lens_.data(); }

private:
    struct owned_arg {
        std::size_t index;  // in args_
        std::size_t offset; // in owned_
    };

    void repoint_owned();

    boost::container::small_vector<const char*, 8> args_;
    boost::container::small_vector<std::size_t, 8> lens_;
    boost::container::small_vector<char, 48> owned_; // texts back to back, no NULs
    boost::container::small_vector<owned_arg, 2> owned_args_;
};

// redisAsyncCommandArgv with an argv: REDIS_OK or REDIS_ERR.
int async_command(redisAsyncContext* ctx, reply_callback fn, void* privdata, const argv& args);

} // namespace rpd::redis
