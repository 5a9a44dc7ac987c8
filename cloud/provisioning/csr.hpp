#pragma once
// Certificate-signing requests from devices: read, signature checked, key strength
// checked, before the CA signs anything for them.
//
// Accepted keys: RSA of 2048 to 8192 bits; EC on the named curves P-256, P-384 and
// P-521. Refused: RSA under 2048 bits (and over 8192: costly to check, no device needs
// it), every other curve (secp256k1, Brainpool, ...) and EC keys with explicit curve
// parameters (the CVE-2022-0778 family lives there), and every other key type (DSA,
// DH, Ed25519, Ed448: device TLS stacks such as mbedTLS and many HSMs cannot use them,
// and the CA signs with ECDSA anyway). The CSR's subject and extensions are ignored:
// the cloud chooses the certificate's CN and extensions itself.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "provisioning/handles.hpp"
#include "provisioning/rejection.hpp"

namespace tether::cloud::provisioning {

// Larger PEM text is refused before OpenSSL reads it. An RSA 8192 CSR is about 4.5 KiB.
inline constexpr std::size_t max_csr_pem_size = 16 * 1024;

struct checked_csr {
    x509_req_ptr request;
    pkey_ptr public_key;  // the key the certificate will carry
};

// Reads and checks a PEM CSR ("BEGIN CERTIFICATE REQUEST"). Returns the request and its
// key, or a rejection with error_code::invalid_csr (status 400) whose message says
// which check failed: too large, not a PEM CSR, no readable key, bad signature,
// weak or refused key. Never throws for bad input (std::bad_alloc aside).
[[nodiscard]] std::variant<checked_csr, rejection> check_csr(std::string_view pem);

}  // namespace tether::cloud::provisioning
