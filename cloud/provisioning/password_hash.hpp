#pragma once
// The administrator's password, stored only as a salted scrypt hash (OpenSSL's
// EVP_PBE_scrypt) in a self-describing string:
//
//     $scrypt$ln=15,r=8,p=1$<salt, base64>$<hash, base64>
//
// N = 2^ln = 32768, r = 8, p = 1 (32 MiB and about 0.1 s per check: RFC 7914's
// interactive-login figures), a 16-byte random salt, a 32-byte hash.

#include <string>
#include <string_view>

namespace tether::cloud::provisioning {

// Hashes `password` with a fresh salt. Throws std::runtime_error if OpenSSL fails.
[[nodiscard]] std::string hash_password(std::string_view password);

// Whether `password` matches `stored` (from hash_password), compared in constant time.
// False, never an exception, for a malformed `stored` or parameters out of bounds
// (ln 10..20, r 1..32, p 1..4: a tampered file cannot make a check cost gigabytes).
[[nodiscard]] bool verify_password(std::string_view password, std::string_view stored);

// A random password of `length` characters from an alphabet without look-alikes (no
// 0/O, 1/l/I). Throws std::runtime_error if the random generator fails.
[[nodiscard]] std::string generate_password(std::size_t length = 20);

}  // namespace tether::cloud::provisioning
