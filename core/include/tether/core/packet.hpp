#pragma once
// MQTT 3.1.1 control packets as plain values. Outgoing packets are described by these
// structs and handed to the encoders; incoming packets are decoded into them as views
// into the caller's receive buffer (see decode.hpp for how long those views live).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tether::core {

using bytes = std::span<const std::uint8_t>;

// Control packet types, numbered as in the fixed header [MQTT-2.2.1].
enum class packet_type : std::uint8_t {
    connect = 1,
    connack = 2,
    publish = 3,
    puback = 4,
    pubrec = 5,
    pubrel = 6,
    pubcomp = 7,
    subscribe = 8,
    suback = 9,
    unsubscribe = 10,
    unsuback = 11,
    pingreq = 12,
    pingresp = 13,
    disconnect = 14,
};

enum class qos : std::uint8_t { at_most_once = 0, at_least_once = 1, exactly_once = 2 };

// CONNACK return codes [MQTT-3.2.2.3], table 3.1.
enum class connack_code : std::uint8_t {
    accepted = 0,
    unacceptable_protocol_version = 1,
    identifier_rejected = 2,
    server_unavailable = 3,
    bad_user_name_or_password = 4,
    not_authorized = 5,
};

// The SUBACK return code for a refused filter [MQTT-3.9.3].
inline constexpr std::uint8_t suback_failure = 0x80;

// Largest remaining length four length bytes can carry [MQTT-2.2.3].
inline constexpr std::uint32_t max_remaining_length = 268'435'455;

// Largest UTF-8 string or binary field: a 16-bit length prefix [MQTT-1.5.3].
inline constexpr std::size_t max_string_length = 65'535;

struct will_message {
    std::string_view topic{};  // a valid topic name [MQTT-3.1.3-10]
    bytes payload{};           // any bytes, at most 65,535
    core::qos qos = core::qos::at_most_once;
    bool retain = false;
};

struct connect_options {
    std::string_view client_id{};  // may be empty only with clean_session [MQTT-3.1.3-7]
    std::uint16_t keep_alive_s = 60;  // 0 turns keep-alive off [MQTT-3.1.2-10]
    bool clean_session = true;
    const will_message* will = nullptr;
    std::optional<std::string_view> user_name{};
    std::optional<bytes> password{};  // needs a user name [MQTT-3.1.2-22]
};

// One PUBLISH. For encoding, packet_id is required when qos > 0 (the session fills it).
// Decoded, topic and payload point into the receive buffer.
struct publish_packet {
    std::string_view topic{};
    bytes payload{};
    core::qos qos = core::qos::at_most_once;
    bool retain = false;
    bool dup = false;
    std::uint16_t packet_id = 0;
};

struct subscribe_topic {
    std::string_view filter{};
    core::qos max_qos = core::qos::at_most_once;
};

struct connack_packet {
    bool session_present = false;
    connack_code code = connack_code::accepted;
};

// Any packet a server may send, decoded. Which fields mean something depends on type:
//   connack                    connack
//   publish                    publish (its packet_id is 0 for QoS 0)
//   puback pubrec pubrel pubcomp unsuback   packet_id
//   suback                     packet_id, return_codes (one byte per filter)
//   pingresp                   nothing
struct incoming_packet {
    packet_type type = packet_type::pingresp;
    std::uint16_t packet_id = 0;
    connack_packet connack{};
    publish_packet publish{};
    bytes return_codes{};
};

}  // namespace tether::core
