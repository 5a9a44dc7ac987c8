#pragma once
// When a certificate stops being valid, for the device list.

#include <cstdint>
#include <optional>
#include <string_view>

namespace tether::cloud::web {

// notAfter of the first certificate in `pem`, in ms since the epoch; nullopt when `pem`
// holds no readable certificate (the registry's record is then shown without an expiry).
[[nodiscard]] std::optional<std::int64_t> certificate_expiry_ms(std::string_view pem);

}  // namespace tether::cloud::web
