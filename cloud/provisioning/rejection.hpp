#pragma once
// Why a provisioning request was refused, in the shape of AWS IoT's rejected bodies
// (PROTOCOL.md §3): {"statusCode":400,"errorCode":"InvalidCsr","errorMessage":"..."}.

#include <nlohmann/json.hpp>
#include <string>

namespace tether::cloud::provisioning {

// The error codes this cloud answers with, and their status codes.
namespace error_code {
inline constexpr const char* invalid_payload = "InvalidPayload";          // 400: not JSON, a field missing or of the wrong type, too large
inline constexpr const char* invalid_csr = "InvalidCsr";                  // 400: unreadable, badly signed or weak-keyed CSR
inline constexpr const char* invalid_token = "InvalidCertificateOwnershipToken";  // 400: unknown, used or expired token
inline constexpr const char* invalid_parameters = "InvalidParameters";    // 400: SerialNumber missing or not a thing name
inline constexpr const char* template_not_found = "ResourceNotFound";     // 404: no such provisioning template
inline constexpr const char* name_taken = "ResourceAlreadyExists";        // 409: the thing name belongs to another certificate
inline constexpr const char* device_revoked = "DeviceRevoked";             // 403: the thing is revoked until an operator releases it
inline constexpr const char* internal_failure = "InternalFailure";        // 500: the cloud failed (OpenSSL, storage)
}  // namespace error_code

struct rejection {
    int status_code = 400;
    std::string error_code{};
    std::string message{};

    [[nodiscard]] nlohmann::json body() const {
        return {{"statusCode", status_code}, {"errorCode", error_code}, {"errorMessage", message}};
    }
};

}  // namespace tether::cloud::provisioning
