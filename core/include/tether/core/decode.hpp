#pragma once
// Decoders for every packet a server sends, strict to the letter of MQTT 3.1.1.
//
// Decoded packets are views: topic, payload and SUBACK return codes point into the bytes
// passed in, and are valid for as long as those bytes are unchanged.

#include <cstddef>
#include <cstdint>
#include <span>

#include "tether/core/error.hpp"
#include "tether/core/packet.hpp"

namespace tether::core {

struct frame_header {
    packet_type type = packet_type::pingresp;
    std::uint8_t flags = 0;                 // low nibble of the first byte
    std::uint32_t remaining_length = 0;
    std::uint8_t header_size = 0;           // 2..5 bytes

    [[nodiscard]] constexpr std::size_t total_size() const noexcept {
        return std::size_t{header_size} + remaining_length;
    }
};

// Reads a fixed header [MQTT-2.2] from the start of `in`.
// Returns error::none; error::incomplete when `in` ends inside the header (not a failure:
// feed more bytes); unexpected_packet_type for a type a server never sends (CONNECT,
// SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT, reserved 0 and 15); invalid_flags when the
// reserved flag bits are not as table 2.2 requires [MQTT-2.2.2-2] (PUBLISH: QoS 3 gives
// invalid_qos [MQTT-3.3.1-4], DUP with QoS 0 invalid_flags [MQTT-3.3.1-2]);
// malformed_remaining_length when a fifth length byte would follow [MQTT-2.2.3].
// Type and flags are checked on the first byte, so garbage fails before its length arrives.
[[nodiscard]] error decode_frame_header(std::span<const std::uint8_t> in, frame_header& out) noexcept;

// Decodes one whole packet; `frame` holds exactly the packet (fixed header included).
// Returns error::none, or: anything decode_frame_header returns (incomplete when frame is
// shorter than the packet); invalid_length when frame is longer than the packet, a fixed
// length is wrong (CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK 2; PINGRESP 0), a
// SUBACK has no return code, or a PUBLISH is shorter than its topic and packet id;
// invalid_connack (reserved ack flag bits, return code over 5, session present with a
// refusal [MQTT-3.2.2-4]); zero_packet_id [MQTT-2.3.1-1]; invalid_topic_name (PUBLISH topic
// empty, with wildcards, bad UTF-8 or U+0000 [MQTT-3.3.2-2, 4.7.3-1, 4.7.3-2, 1.5.3-1]);
// invalid_suback_code [MQTT-3.9.3-2].
[[nodiscard]] error decode_packet(std::span<const std::uint8_t> frame, incoming_packet& out) noexcept;

}  // namespace tether::core
