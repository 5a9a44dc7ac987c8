#pragma once
// The device's own key and its certificate-signing request (PROTOCOL.md §3): the private
// key is made here and never leaves the device; only the CSR is sent.
//
//   auto k = tether::device::make_key_and_csr(tether::device::key_kind::ec_p256, "dev-7");
//   // k.key_pem: "-----BEGIN PRIVATE KEY-----...", k.csr_pem: "-----BEGIN CERTIFICATE REQUEST-----..."

#include <string>
#include <string_view>

namespace tether::device {

enum class key_kind {
    ec_p256,   // the default: small and what the cloud asks for at least
    rsa_2048,  // for clouds that want RSA
};

struct key_and_csr {
    std::string key_pem;  // unencrypted PKCS#8
    std::string csr_pem;  // signed with the key (SHA-256), subject CN = common_name
};

// A new key of `kind` and a CSR for it. `common_name` is a placeholder (the cloud sets the
// certificate's CN to the thing name); 1 to 64 bytes. Throws std::invalid_argument for a bad
// common name, std::runtime_error (with OpenSSL's reason) if OpenSSL fails.
[[nodiscard]] key_and_csr make_key_and_csr(key_kind kind, std::string_view common_name);

// "ec-p256" / "rsa-2048" as in provision.keyType; nullopt-like false for anything else.
[[nodiscard]] bool parse_key_kind(std::string_view text, key_kind& out) noexcept;

}  // namespace tether::device
