#pragma once
// Errors of the device layer as std::error_code, category "tether.device". Errors of the
// client underneath (timeout, not_connected, TLS, ...) pass through as the client's codes.

#include <system_error>

namespace tether::device {

enum class errc {
    not_found = 1,          // the cloud answered null: the key or metric has no value
    wrong_type,             // the cloud's value is not of the type asked for
    bad_reply,              // a reply that is not JSON, or not the shape PROTOCOL.md gives
    cloud_error,            // the cloud answered {"error": "..."}
    provisioning_rejected,  // a /rejected reply during provisioning (the errorCode is reported beside)
    provisioning_timeout,   // no provisioning reply within the time allowed
    claim_refused,          // the broker refused the claim identity (connect failed)
    no_claim_identity,      // provisioning is needed but claimCert, claimKey or ca is not configured
    no_serial_number,       // provisioning is needed but device.json5 names no serial number
    not_provisioned,        // an operation that needs the device's own identity, before it has one
    stopped,                // the device was stopped while the operation waited
    // start(): another device object or process holds the device folder (DIR/device.lock):
    // two devices on one folder would overwrite each other's identity files
    folder_in_use,
};

[[nodiscard]] const std::error_category& device_category() noexcept;

[[nodiscard]] inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), device_category()};
}

}  // namespace tether::device

template <>
struct std::is_error_code_enum<tether::device::errc> : std::true_type {};
