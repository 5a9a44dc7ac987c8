#pragma once
// The journal's on-disk layout (docs/PERSISTENCE.md has the full table). All integers are
// little-endian. A file is a header, then records appended one after another:
//
//   header  "TETHERJL" | version u16 | flags u16 (0) | id length u16 | client id | crc32c u32
//   record  type u8 | body length u32 | crc32c u32 (over type, length and body) | body
//
// Records refer to messages by a sequence number the journal assigns (messages waiting in
// the offline queue have no packet id yet), and bind a packet id once one is chosen.
// Version 2 added the run records (7, 8): a run of acknowledgements, or of messages entering
// the window, in one record. Version 1 files are read, and written with version 1 records
// only until a compaction rewrites them as version 2 (journal.cpp).

#include <cstddef>
#include <cstdint>
#include <span>

namespace tether::client::detail::journal_format {

inline constexpr std::uint8_t magic[8] = {'T', 'E', 'T', 'H', 'E', 'R', 'J', 'L'};
inline constexpr std::uint16_t version = 2;
inline constexpr std::uint16_t first_version_with_runs = 2;
inline constexpr std::size_t header_fixed = 8 + 2 + 2 + 2;  // before the client id
inline constexpr std::size_t header_crc = 4;
inline constexpr std::size_t record_head = 1 + 4 + 4;

enum class record : std::uint8_t {
    publish = 1,         // seq u64 | flags u8 (bits 0-1 QoS 1 or 2, bit 2 retain) | topic length u16 | topic | payload
    bind_id = 2,         // seq u64 | packet id u16: the message got this packet id
    pubrec = 3,          // seq u64: PUBREC came; the message is released (PUBREL goes next)
    remove = 4,          // seq u64: acknowledged, dropped or failed; gone
    inbound_hold = 5,    // packet id u16: an inbound QoS 2 PUBLISH delivered, awaiting PUBREL
    inbound_release = 6, // packet id u16: its PUBREL came
    remove_run = 7,      // seq u64 | count u32 (2 or more): seq .. seq + count - 1 are gone
    bind_run = 8,        // seq u64 | packet id u16 | count u16 (2 or more): seq + i got packet id + i
};

inline constexpr std::size_t run_body = 12;  // of remove_run and bind_run

inline constexpr std::size_t publish_fixed = 8 + 1 + 2;
inline constexpr std::size_t max_topic = 65'535;
inline constexpr std::size_t max_payload = 268'435'455;  // MQTT's largest remaining length
inline constexpr std::size_t max_body = publish_fixed + max_topic + max_payload;

inline void put16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8);
}
inline void put32(std::uint8_t* p, std::uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline void put64(std::uint8_t* p, std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
[[nodiscard]] inline std::uint16_t get16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}
[[nodiscard]] inline std::uint32_t get32(const std::uint8_t* p) noexcept {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = v << 8 | p[i];
    return v;
}
[[nodiscard]] inline std::uint64_t get64(const std::uint8_t* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
    return v;
}

}  // namespace tether::client::detail::journal_format
