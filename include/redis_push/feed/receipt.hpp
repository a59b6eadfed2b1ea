#pragma once

#include <memory>
#include <utility>

namespace rpd::feed {

// An item a destructive read (a list pop) took for a client, in the hands
// of the transport that writes it: settled with `true` once its bytes are
// written, with `false` when they never will be (the client left, the
// connection broke). Dropping an unsettled receipt settles it with false,
// so an item is never lost to a path that forgot it: whoever issued the
// receipt puts the item back then.
class receipt {
public:
    struct settler {
        virtual ~settler() = default;
        virtual void settle(bool written) noexcept = 0;
    };

    receipt() = default;
    explicit receipt(std::unique_ptr<settler> s) : settler_(std::move(s)) {}
    template <class Fn> static receipt of(Fn fn) {
        struct by_function final : settler {
            explicit by_function(Fn f) : fn(std::move(f)) {}
            void settle(bool written) noexcept override { fn(written); }
            Fn fn;
        };
        return receipt(std::make_unique<by_function>(std::move(fn)));
    }

    receipt(receipt&&) noexcept = default;
    receipt& operator=(receipt&& other) noexcept {
        if (this != &other) {
            settle(false);
            settler_ = std::move(other.settler_);
        }
        return *this;
    }
    receipt(const receipt&) = delete;
    receipt& operator=(const receipt&) = delete;
    ~receipt() { settle(false); }

    // Once: later calls do nothing.
    void settle(bool written) noexcept {
        if (auto s = std::move(settler_))
            s->settle(written);
    }
    explicit operator bool() const { return settler_ != nullptr; }

private:
    std::unique_ptr<settler> settler_;
};

} // namespace rpd::feed
