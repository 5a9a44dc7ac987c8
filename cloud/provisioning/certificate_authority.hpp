#pragma once
// The cloud's certificate authority: an EC P-256 key and a self-signed certificate that
// signs the broker's server certificate, the cloud service's and the claim's client
// certificates, every device certificate, and the list of revoked ones (a CRL the broker
// reads).
//
//     auto ca = certificate_authority::create("tether CA", std::chrono::system_clock::now());
//     auto key = generate_p256_key();
//     auto issued = ca.issue(*key, {.kind = certificate_kind::client, .common_name = "dev1"}, now);
//     // issued.pem, issued.serial (recorded by the caller: the CRL names certificates by it)

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "provisioning/handles.hpp"

namespace tether::cloud::provisioning {

using time_point = std::chrono::system_clock::time_point;

enum class certificate_kind {
    server,  // extendedKeyUsage serverAuth, subjectAltName from `names`
    client,  // extendedKeyUsage clientAuth: devices, the claim, the cloud service
};

struct certificate_profile {
    certificate_kind kind = certificate_kind::client;
    // The subject's CN: for a client the broker's user name (PROTOCOL.md §4). 1 to 64
    // bytes of printable ASCII (64 is X.520's upper bound for a CN).
    std::string common_name{};
    // Server only: host names and IP addresses (v4 or v6) for subjectAltName. A name is
    // letters, digits, '-', '.' and a leading "*." at most.
    std::vector<std::string> names{};
    // Capped at the CA's own expiry: a certificate never outlives its issuer.
    std::chrono::days lifetime{3650};
};

struct issued_certificate {
    std::string pem;
    std::string serial;  // uppercase hex without leading zeros, as the CRL and `openssl x509 -serial` show it
    time_point not_before;
    time_point not_after;
};

struct revoked_certificate {
    std::string serial;  // as issued_certificate::serial
    time_point revoked_at;
};

class certificate_authority {
public:
    // A new CA: EC P-256 key, self-signed, valid for `lifetime` from `now` (10 years by
    // default), CN `common_name` (rules as certificate_profile::common_name). Throws
    // std::invalid_argument for a bad name, std::runtime_error if OpenSSL fails.
    [[nodiscard]] static certificate_authority create(std::string_view common_name, time_point now,
                                                      std::chrono::days lifetime = std::chrono::days(3652));

    // A CA from its PEM certificate and key. Throws std::invalid_argument if either is
    // unreadable, the key is not the certificate's, or the certificate is not a CA.
    [[nodiscard]] static certificate_authority load(std::string_view certificate_pem, std::string_view key_pem);

    [[nodiscard]] std::string certificate_pem() const;
    [[nodiscard]] std::string private_key_pem() const;
    [[nodiscard]] time_point not_after() const;

    // Signs a certificate for `subject_key` (only its public half is used) with a random
    // 127-bit serial. Valid from an hour before `now` (devices' clocks drift) to
    // now + lifetime, capped at the CA's expiry. Throws std::invalid_argument for a bad
    // CN or name, std::runtime_error if OpenSSL fails.
    [[nodiscard]] issued_certificate issue(EVP_PKEY& subject_key, const certificate_profile& profile,
                                           time_point now) const;

    // A CRL (v2, signed with SHA-256) listing `revoked`, numbered `crl_number` (the
    // broker does not care; other readers want it to grow). Its nextUpdate is the CA's
    // own expiry: OpenSSL refuses every client once a CRL has expired, and this CRL
    // changes only when a device is revoked. Throws std::invalid_argument for a serial
    // that is not hex, std::runtime_error if OpenSSL fails.
    [[nodiscard]] std::string crl_pem(std::span<const revoked_certificate> revoked, std::uint64_t crl_number,
                                      time_point now) const;

private:
    certificate_authority(x509_ptr certificate, pkey_ptr key);
    x509_ptr certificate_;
    pkey_ptr key_;
};

}  // namespace tether::cloud::provisioning
