#pragma once
// Unpredictable values from OpenSSL's CSPRNG: certificate ids, ownership tokens, salts,
// serial numbers and passwords.

#include <cstddef>
#include <span>
#include <string>

namespace tether::cloud::provisioning {

// `n` random bytes. Throws std::runtime_error if the generator fails (not seeded).
[[nodiscard]] std::string random_bytes(std::size_t n);

// `n` random bytes as 2n lowercase hex digits. Throws as random_bytes.
[[nodiscard]] std::string random_hex(std::size_t n);

// Lowercase hex of `bytes`.
[[nodiscard]] std::string to_hex(std::span<const unsigned char> bytes);

}  // namespace tether::cloud::provisioning
