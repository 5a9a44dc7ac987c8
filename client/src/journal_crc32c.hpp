#pragma once
// CRC-32C (Castagnoli), the checksum of every journal record. Chosen over CRC-32 for its
// better error detection on short records, and because ext4, iSCSI and SCTP use it, so its
// check values are easy to confirm (crc32c("123456789") == 0xE3069283).

#include <cstdint>
#include <span>

namespace tether::client::detail {

// Continues a CRC: pass the previous result as `crc` (0 to start), so that a record whose
// header and body sit in different buffers is summed without copying them together.
[[nodiscard]] std::uint32_t crc32c(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0) noexcept;

}  // namespace tether::client::detail
