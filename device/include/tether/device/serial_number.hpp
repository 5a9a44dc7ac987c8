#pragma once
// The serial number of a device kit that came without one: a random serial made once and
// saved in DIR/config/device.json5 as `serialNumber`, so that every later start (and every
// re-provisioning) asks the cloud for the same thing name.
//
//   const std::string serial = tether::device::ensure_serial_number(config.dir);

#include <filesystem>
#include <string>

namespace tether::device {

// The serial number saved in DIR/config/device.json5 (serialNumber, or serial), or, when it
// has none, a new random one (16 lowercase hex digits) written there first. The file keeps
// its text, comments included: the key goes in just after the top-level '{'. A missing
// file is created. The write is atomic (write_file_durably): a crash leaves the file as it
// was or with the serial, never half written.
// Throws configuration_error when device.json5 is not a JSON5 object, std::system_error
// naming the path when reading or writing fails.
[[nodiscard]] std::string ensure_serial_number(const std::filesystem::path& dir);

}  // namespace tether::device
