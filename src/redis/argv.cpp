#include "redis_push/redis/argv.hpp"

#include <hiredis/async.h>

#include <charconv>
#include <limits>

namespace rpd::redis {

argv::argv(std::initializer_list<std::string_view> args) {
    args_.reserve(args.size());
    lens_.reserve(args.size());
    for (std::string_view a : args)
        add(a);
}

argv::argv(const argv& other)
    : args_(other.args_), lens_(other.lens_), owned_(other.owned_), owned_args_(other.owned_args_) {
    repoint_owned();
}

argv::argv(argv&& other) noexcept
    : args_(std::move(other.args_)), lens_(std::move(other.lens_)), owned_(std::move(other.owned_)),
      owned_args_(std::move(other.owned_args_)) {
    repoint_owned();
    other.clear();
}

argv& argv::operator=(const argv& other) {
    if (this != &other) {
        args_ = other.args_;
        lens_ = other.lens_;
        owned_ = other.owned_;
        owned_args_ = other.owned_args_;
        repoint_owned();
    }
    return *this;
}

argv& argv::operator=(argv&& other) noexcept {
    if (this != &other) {
        args_ = std::move(other.args_);
        lens_ = std::move(other.lens_);
        owned_ = std::move(other.owned_);
        owned_args_ = std::move(other.owned_args_);
        repoint_owned();
        other.clear();
    }
    return *this;
}

argv& argv::add(std::string_view arg) {
    args_.push_back(arg.data());
    lens_.push_back(arg.size());
    return *this;
}

argv& argv::add_copy(std::string_view arg) {
    const char* before = owned_.data();
    const std::size_t offset = owned_.size();
    owned_.insert(owned_.end(), arg.begin(), arg.end());
    owned_args_.push_back({args_.size(), offset});
    args_.push_back(owned_.data() + offset);
    lens_.push_back(arg.size());
    // The owned text moved to a bigger buffer: the earlier pointers into it
    // would dangle.
    if (owned_.data() != before)
        repoint_owned();
    return *this;
}

argv& argv::add_number(long long n) {
    char text[std::numeric_limits<long long>::digits10 + 2];
    const auto [end, ec] = std::to_chars(std::begin(text), std::end(text), n);
    (void)ec; // the buffer fits every long long
    return add_copy(std::string_view(text, static_cast<std::size_t>(end - text)));
}

void argv::clear() {
    args_.clear();
    lens_.clear();
    owned_.clear();
    owned_args_.clear();
}

void argv::repoint_owned() {
    for (const owned_arg& o : owned_args_)
        args_[o.index] = owned_.data() + o.offset;
}

int async_command(redisAsyncContext* ctx, reply_callback fn, void* privdata, const argv& args) {
    return redisAsyncCommandArgv(ctx, fn, privdata, args.size(), args.data(), args.lengths());
}

} // namespace rpd::redis
