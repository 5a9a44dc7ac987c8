#pragma once
// Encoders for every packet a client sends. Each writes one whole packet into a span the
// caller owns and never allocates.
//
// Size first: every encoder reports the exact packet size in `size`, also when `out` is
// too small (then err is error::buffer_too_small and nothing is guaranteed about `out`).
// The *_size() helpers measure first: connect_size, subscribe_size and unsubscribe_size
// call the encoder with an empty span and return 0 for invalid arguments; publish_size is
// arithmetic, for speed, and leaves the checking to encode_publish.
//
//   std::array<std::uint8_t, 64> buf;
//   auto r = encode_publish({.topic = "a/b", .payload = body}, buf);
//   if (r.err == error::none) send(std::span(buf).first(r.size));

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "tether/core/error.hpp"
#include "tether/core/packet.hpp"

namespace tether::core {

struct [[nodiscard]] encode_result {
    error err = error::none;
    std::size_t size = 0;  // bytes of the whole packet (written, or needed)
};

// CONNECT [MQTT-3.1]: protocol name "MQTT", level 4, flags, keep-alive, then client id,
// will topic and message, user name and password as present.
// Errors: invalid_string (client id or user name not valid UTF-8 or too long; password
// or will payload over 65,535 bytes), empty_client_id_requires_clean_session,
// invalid_topic_name (will topic), invalid_qos (will), password_without_user_name,
// buffer_too_small.
encode_result encode_connect(const connect_options& options, std::span<std::uint8_t> out) noexcept;

// PUBLISH [MQTT-3.3]. packet_id must be non-zero for QoS 1 and 2 and is not written for
// QoS 0; dup must be false for QoS 0 [MQTT-3.3.1-2].
// Errors: invalid_topic_name, invalid_qos, invalid_packet_id, invalid_flags (dup on QoS 0),
// packet_too_large, buffer_too_small.
encode_result encode_publish(const publish_packet& packet, std::span<std::uint8_t> out) noexcept;

// PUBACK, PUBREC, PUBREL or PUBCOMP: a fixed header and the packet id, 4 bytes. PUBREL
// has flags 0010 [MQTT-3.6.1-1]. Errors: invalid_packet_id (0), unexpected_packet_type
// (type is not one of the four), buffer_too_small.
encode_result encode_ack(packet_type type, std::uint16_t packet_id, std::span<std::uint8_t> out) noexcept;

// SUBSCRIBE [MQTT-3.8] with one or more filters; flags 0010 [MQTT-3.8.1-1].
// Errors: invalid_packet_id, no_topic_filters, invalid_topic_filter, invalid_qos,
// packet_too_large, buffer_too_small.
encode_result encode_subscribe(std::uint16_t packet_id, std::span<const subscribe_topic> topics,
                               std::span<std::uint8_t> out) noexcept;

// UNSUBSCRIBE [MQTT-3.10] with one or more filters; flags 0010 [MQTT-3.10.1-1].
// Errors: invalid_packet_id, no_topic_filters, invalid_topic_filter, packet_too_large,
// buffer_too_small.
encode_result encode_unsubscribe(std::uint16_t packet_id, std::span<const std::string_view> filters,
                                 std::span<std::uint8_t> out) noexcept;

// PINGREQ [MQTT-3.12] or DISCONNECT [MQTT-3.14]: two bytes. Errors: buffer_too_small,
// unexpected_packet_type (any other type).
encode_result encode_empty(packet_type type, std::span<std::uint8_t> out) noexcept;

// Sets DUP on an encoded QoS 1/2 PUBLISH that is being sent again [MQTT-3.3.1-1], so the
// caller can keep the bytes it sent the first time and resend them as they are.
constexpr void mark_dup(std::span<std::uint8_t> encoded_publish) noexcept {
    if (!encoded_publish.empty() && (encoded_publish[0] & 0x06) != 0) encoded_publish[0] |= 0x08;
}

inline encode_result encode_puback(std::uint16_t id, std::span<std::uint8_t> out) noexcept {
    return encode_ack(packet_type::puback, id, out);
}
inline encode_result encode_pubrec(std::uint16_t id, std::span<std::uint8_t> out) noexcept {
    return encode_ack(packet_type::pubrec, id, out);
}
inline encode_result encode_pubrel(std::uint16_t id, std::span<std::uint8_t> out) noexcept {
    return encode_ack(packet_type::pubrel, id, out);
}
inline encode_result encode_pubcomp(std::uint16_t id, std::span<std::uint8_t> out) noexcept {
    return encode_ack(packet_type::pubcomp, id, out);
}
inline encode_result encode_pingreq(std::span<std::uint8_t> out) noexcept {
    return encode_empty(packet_type::pingreq, out);
}
inline encode_result encode_disconnect(std::span<std::uint8_t> out) noexcept {
    return encode_empty(packet_type::disconnect, out);
}

[[nodiscard]] inline std::size_t connect_size(const connect_options& options) noexcept {
    auto r = encode_connect(options, {});
    return r.err == error::buffer_too_small ? r.size : 0;
}
// The size of a PUBLISH, computed without checking the arguments (encode_publish checks
// them): it does not depend on the packet id or DUP, so a packet can be measured before
// the session gives it an id. 0 when the packet would exceed the remaining length limit.
[[nodiscard]] constexpr std::size_t publish_size(const publish_packet& packet) noexcept {
    const std::size_t remaining =
        2 + packet.topic.size() + (packet.qos != qos::at_most_once ? 2 : 0) + packet.payload.size();
    if (remaining > max_remaining_length) return 0;
    const std::size_t length_bytes = remaining < 128 ? 1 : remaining < 16'384 ? 2 : remaining < 2'097'152 ? 3 : 4;
    return 1 + length_bytes + remaining;
}
[[nodiscard]] inline std::size_t subscribe_size(std::span<const subscribe_topic> topics) noexcept {
    auto r = encode_subscribe(1, topics, {});
    return r.err == error::buffer_too_small ? r.size : 0;
}
[[nodiscard]] inline std::size_t unsubscribe_size(std::span<const std::string_view> filters) noexcept {
    auto r = encode_unsubscribe(1, filters, {});
    return r.err == error::buffer_too_small ? r.size : 0;
}

}  // namespace tether::core
