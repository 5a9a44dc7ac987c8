#pragma once
// Key pairs and PEM: generating the EC P-256 keys the cloud uses for itself (CA, broker,
// service, claim), and reading and writing keys and certificates as PEM text.

#include <string>
#include <string_view>

#include "provisioning/handles.hpp"

namespace tether::cloud::provisioning {

// A new EC key on the P-256 curve (prime256v1). Throws std::runtime_error if OpenSSL
// fails (out of memory or entropy).
[[nodiscard]] pkey_ptr generate_p256_key();

// The private key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"). Throws
// std::runtime_error if OpenSSL fails.
[[nodiscard]] std::string private_key_pem(EVP_PKEY& key);

// The public half as SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY"). Throws
// std::runtime_error if OpenSSL fails.
[[nodiscard]] std::string public_key_pem(EVP_PKEY& key);

// Reads a private key from PEM. Throws std::invalid_argument (with OpenSSL's reason) if
// the text holds no readable unencrypted private key.
[[nodiscard]] pkey_ptr read_private_key(std::string_view pem);

// Reads the first certificate from PEM. Throws std::invalid_argument if there is none.
[[nodiscard]] x509_ptr read_certificate(std::string_view pem);

// A certificate as PEM. Throws std::runtime_error if OpenSSL fails.
[[nodiscard]] std::string certificate_pem(X509& certificate);

// The lowercase hex SHA-256 of a public key's DER SubjectPublicKeyInfo: names a key
// without holding it (two certificates for one device key have the same fingerprint).
// Throws std::runtime_error if OpenSSL fails.
[[nodiscard]] std::string public_key_fingerprint(EVP_PKEY& key);

}  // namespace tether::cloud::provisioning
