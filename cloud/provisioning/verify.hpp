#pragma once
// Checks a certificate against a CA (and optionally its CRL) as a TLS peer would: the
// cloud uses it to check what it loads, tests use it to check what the CA issued.

#include <string>
#include <string_view>

#include "provisioning/certificate_authority.hpp"

namespace tether::cloud::provisioning {

// Empty when `certificate_pem` chains to `ca_pem` at `now` (and, when `crl_pem` is not
// empty, is not revoked by it); otherwise OpenSSL's reason ("certificate signature
// failure", "certificate revoked", "unable to get local issuer certificate", ...) or why
// a PEM could not be read. Never throws for bad input.
[[nodiscard]] std::string verify_certificate(std::string_view certificate_pem, std::string_view ca_pem, time_point now,
                                             std::string_view crl_pem = {});

}  // namespace tether::cloud::provisioning
