#include "provisioning/password_hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <charconv>
#include <stdexcept>
#include <vector>

#include "provisioning/handles.hpp"
#include "provisioning/random.hpp"

namespace tether::cloud::provisioning {

namespace {

constexpr unsigned default_ln = 15, default_r = 8, default_p = 1;
constexpr std::size_t salt_size = 16, hash_size = 32;

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// Decodes padded base64 of a length that must come out as exactly `expected` bytes.
bool unbase64(std::string_view text, std::size_t expected, std::string& out) {
    if (text.empty() || text.size() % 4 != 0 || text.size() > 4 * ((expected + 2) / 3)) return false;
    std::string buf(text.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(buf.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) return false;
    std::size_t len = static_cast<std::size_t>(n);
    // EVP_DecodeBlock keeps the zero bytes that the padding stands for.
    for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) --len;
    if (len != expected) return false;
    buf.resize(len);
    out = std::move(buf);
    return true;
}

bool scrypt(std::string_view password, std::string_view salt, unsigned ln, unsigned r, unsigned p, std::string& out) {
    out.assign(hash_size, '\0');
    const std::uint64_t n = std::uint64_t{1} << ln;
    const std::uint64_t maxmem = 128 * n * r * p + (std::uint64_t{1} << 20) * 8;
    return EVP_PBE_scrypt(password.data(), password.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                          salt.size(), n, r, p, maxmem, reinterpret_cast<unsigned char*>(out.data()), out.size()) == 1;
}

bool read_param(std::string_view& text, std::string_view name, unsigned lo, unsigned hi, unsigned& value) {
    if (!text.starts_with(name)) return false;
    text.remove_prefix(name.size());
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || value < lo || value > hi) return false;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    return true;
}

}  // namespace

std::string hash_password(std::string_view password) {
    const std::string salt = random_bytes(salt_size);
    std::string hash;
    if (!scrypt(password, salt, default_ln, default_r, default_p, hash)) {
        throw std::runtime_error("scrypt failed: " + take_openssl_errors());
    }
    return "$scrypt$ln=" + std::to_string(default_ln) + ",r=" + std::to_string(default_r) +
           ",p=" + std::to_string(default_p) + "$" + base64(salt) + "$" + base64(hash);
}

bool verify_password(std::string_view password, std::string_view stored) {
    std::string_view s = stored;
    unsigned ln = 0, r = 0, p = 0;
    if (!s.starts_with("$scrypt$")) return false;
    s.remove_prefix(8);
    if (!read_param(s, "ln=", 10, 20, ln) || !read_param(s, ",r=", 1, 32, r) || !read_param(s, ",p=", 1, 4, p) ||
        !s.starts_with("$")) {
        return false;
    }
    s.remove_prefix(1);
    const auto dollar = s.find('$');
    if (dollar == std::string_view::npos) return false;
    std::string salt, expected, actual;
    if (!unbase64(s.substr(0, dollar), salt_size, salt) || !unbase64(s.substr(dollar + 1), hash_size, expected)) {
        return false;
    }
    if (!scrypt(password, salt, ln, r, p, actual)) {
        clear_openssl_errors();
        return false;
    }
    return CRYPTO_memcmp(actual.data(), expected.data(), hash_size) == 0;
}

std::string generate_password(std::size_t length) {
    static constexpr std::string_view alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    std::string out;
    while (out.size() < length) {
        for (const char b : random_bytes(length)) {
            // Rejection sampling: only bytes below the largest multiple of the alphabet's
            // size, so that every character is equally likely.
            const auto v = static_cast<unsigned char>(b);
            if (v < 256 - 256 % alphabet.size() && out.size() < length) out += alphabet[v % alphabet.size()];
        }
    }
    return out;
}

}  // namespace tether::cloud::provisioning
