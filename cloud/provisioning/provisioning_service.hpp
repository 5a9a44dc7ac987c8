#pragma once
// The fleet-provisioning flow of PROTOCOL.md §3 as pure functions: a request's topic and
// body in, the reply's topic and body out. No MQTT, no clock and no files: the caller
// passes the time, delivers the reply, and writes the CRL that revoke_thing returns.
//
//     memory_registry reg;
//     provisioning_service svc(ca, reg, {.endpoint = "mqtt.example.com", .port = 8883});
//     if (auto r = svc.handle(topic, payload, std::chrono::system_clock::now())) publish(r->topic, r->payload);

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "provisioning/certificate_authority.hpp"
#include "provisioning/registry.hpp"
#include "provisioning/topics.hpp"

namespace tether::cloud::provisioning {

struct provisioning_settings {
    std::string endpoint = "localhost";  // deviceConfiguration.endpoint: where devices connect
    std::uint16_t port = 8883;           // deviceConfiguration.port
    std::set<std::string, std::less<>> templates{"default"};
    std::chrono::seconds token_lifetime{3600};
    std::chrono::days certificate_lifetime{3650};  // capped at the CA's expiry
};

// Larger request bodies are refused (InvalidPayload) before they are parsed.
inline constexpr std::size_t max_request_size = 32 * 1024;

struct reply {
    std::string topic;    // the request topic plus /accepted or /rejected
    std::string payload;  // JSON
    bool accepted = false;
};

struct revocation {
    std::vector<certificate_record> revoked;  // revoke: empty for no such thing, or already revoked
    std::string crl_pem;                      // every revoked certificate: the broker's crlfile
    message release;                          // tells the device to forget its identity
};

class provisioning_service {
public:
    // `ca` and `registry` must outlive the service.
    provisioning_service(const certificate_authority& ca, registry& registry, provisioning_settings settings);

    // Answers a message on a provisioning topic; nullopt when `topic` is not one
    // (parse_request_topic). Never throws for bad input: every refusal is a rejected reply
    // (see the two functions below), and a failure of OpenSSL or of the registry is
    // InternalFailure (500).
    [[nodiscard]] std::optional<reply> handle(std::string_view topic, std::string_view payload, time_point now);

    // CreateCertificateFromCsr: {"certificateSigningRequest": PEM}. Accepted:
    // {certificateId, certificatePem (CN pending-<certificateId>), certificateOwnershipToken
    // (one use, valid token_lifetime)}. Rejected: InvalidPayload (not a JSON object, no
    // string certificateSigningRequest, over max_request_size), InvalidCsr (check_csr).
    [[nodiscard]] reply create_from_csr(std::string_view client_id, std::string_view payload, time_point now);

    // RegisterThing: {"certificateOwnershipToken": T, "parameters": {"SerialNumber": S}}.
    // The template turns S into the thing name. Accepted: {thingName, deviceConfiguration:
    // {endpoint, port (a string), certificatePem (the CSR signed again, CN = thing name)}}.
    // Rejected: ResourceNotFound (404, unknown template), InvalidPayload, InvalidParameters
    // (no SerialNumber, or not a thing name: thing_name_problem),
    // InvalidCertificateOwnershipToken (unknown, used or expired), DeviceRevoked (403, the
    // thing is revoked and no operator released it since: a revoked device is never given a
    // certificate by itself), ResourceAlreadyExists (409, the name is held by another key's
    // certificate).
    [[nodiscard]] reply register_thing(std::string_view client_id, std::string_view template_name,
                                       std::string_view payload, time_point now);

    // Revokes the thing and its certificates, and returns the CRL to write (atomic_file.hpp).
    // The thing's next provisioning requests are refused (DeviceRevoked) until
    // release_thing. `release` is the release message, which an operator's revoke does not
    // send (a device told to provision again would only be refused). Throws what the
    // registry or the CA throws.
    [[nodiscard]] revocation revoke_thing(std::string_view thing_name, time_point now);

    // An operator's release: the thing may provision again and get a new certificate, with
    // a new key. Its current certificate, if still active, is revoked (listed in the CRL
    // returned) so that the name is free for the new key. `release` tells a connected
    // device to provision again (PROTOCOL.md §2). nullopt for an unknown thing. Throws
    // what the registry or the CA throws.
    [[nodiscard]] std::optional<revocation> release_thing(std::string_view thing_name, time_point now);

    // The CRL of every revoked certificate so far (for a fresh deployment: an empty one).
    [[nodiscard]] std::string current_crl(time_point now) const;

private:
    const certificate_authority& ca_;
    registry& registry_;
    provisioning_settings settings_;
};

}  // namespace tether::cloud::provisioning
