#include "redis_push/tasks/task_signer.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <stdexcept>

namespace rpd::tasks {

std::string base64url(const unsigned char* data, std::size_t size) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((size * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const unsigned v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (size - i == 1) {
        const unsigned v = data[i] << 16;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
    } else if (size - i == 2) {
        const unsigned v = (data[i] << 16) | (data[i + 1] << 8);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
    }
    return out;
}

task_signer::task_signer(std::string_view secret, std::size_t signature_bytes)
    : signature_bytes_(signature_bytes) {
    if (signature_bytes_ == 0 || signature_bytes_ > 32)
        throw std::invalid_argument("signature_bytes must be 1 to 32");
    EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (hmac == nullptr)
        throw std::runtime_error("OpenSSL offers no HMAC");
    mac_ = EVP_MAC_CTX_new(hmac);
    EVP_MAC_free(hmac); // the context holds its own reference
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_END};
    if (mac_ == nullptr || EVP_MAC_init(mac_, reinterpret_cast<const unsigned char*>(secret.data()),
                                        secret.size(), params) != 1) {
        EVP_MAC_CTX_free(mac_);
        throw std::runtime_error("cannot set up HMAC-SHA256");
    }
}

task_signer::~task_signer() {
    EVP_MAC_CTX_free(mac_);
}

task_signer::signed_id task_signer::split(std::string_view segment) {
    const auto dot = segment.rfind('.');
    if (dot == std::string_view::npos)
        return {segment, {}};
    return {segment.substr(0, dot), segment.substr(dot + 1)};
}

std::string task_signer::sign(std::string_view id) const {
    std::array<unsigned char, 32> mac{};
    std::size_t length = 0;
    // A null key re-uses the one given at construction.
    if (EVP_MAC_init(mac_, nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(mac_, reinterpret_cast<const unsigned char*>(id.data()), id.size()) != 1 ||
        EVP_MAC_final(mac_, mac.data(), &length, mac.size()) != 1 || length != mac.size())
        throw std::runtime_error("HMAC-SHA256 failed");
    return base64url(mac.data(), signature_bytes_);
}

bool task_signer::verify(std::string_view id, std::string_view signature) const {
    const std::string expected = sign(id);
    // The length is public (it follows from signature_bytes); the bytes are not.
    return signature.size() == expected.size() &&
           CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

} // namespace rpd::tasks
