#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

struct evp_mac_ctx_st;

namespace rpd::tasks {

// Signed task ids: a client names a task as `<id>.<sig>`, where sig is the
// base64url text (no padding) of the first signature_bytes bytes of
// HMAC-SHA256(secret, id). Redis only ever sees the bare id. Knowing one
// task's URL then gives no way to guess another's.
class task_signer {
public:
    struct signed_id {
        std::string_view id;        // the bare id
        std::string_view signature; // empty when the URL carries none
    };

    task_signer(std::string_view secret, std::size_t signature_bytes);
    ~task_signer();
    task_signer(const task_signer&) = delete;
    task_signer& operator=(const task_signer&) = delete;

    // Splits at the last '.': base64url never contains one.
    static signed_id split(std::string_view segment);

    // The signature of id, as it appears in a URL.
    std::string sign(std::string_view id) const;

    // Whether signature is id's; the comparison takes the same time
    // wherever the first difference is.
    bool verify(std::string_view id, std::string_view signature) const;

private:
    std::size_t signature_bytes_;
    // Keyed once; every signature re-initialises it with the same key, which
    // reuses the precomputed HMAC pads (one event-loop thread: no sharing).
    evp_mac_ctx_st* mac_ = nullptr;
};

// base64url without padding (RFC 4648 section 5).
std::string base64url(const unsigned char* data, std::size_t size);

} // namespace rpd::tasks
