#include "tether/device/error.hpp"

#include <string>

namespace tether::device {
namespace {

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "tether.device"; }
    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::not_found: return "no value";
        case errc::wrong_type: return "the value has another type";
        case errc::bad_reply: return "the cloud's reply is not valid";
        case errc::cloud_error: return "the cloud refused the request";
        case errc::provisioning_rejected: return "provisioning rejected";
        case errc::provisioning_timeout: return "no provisioning reply in time";
        case errc::claim_refused: return "the broker refused the claim identity";
        case errc::no_claim_identity: return "provisioning needs provision.claimCert, provision.claimKey and mqtt.ca";
        case errc::no_serial_number: return "provisioning needs device.serialNumber in device.json5";
        case errc::not_provisioned: return "the device has no identity yet";
        case errc::stopped: return "the device was stopped";
        case errc::folder_in_use: return "device folder in use by another device or process";
        }
        return "unknown device error " + std::to_string(value);
    }
};

}  // namespace

const std::error_category& device_category() noexcept {
    static const category instance;
    return instance;
}

}  // namespace tether::device
