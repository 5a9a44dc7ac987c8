#include "tether/core/decode.hpp"

#include "tether/core/topic.hpp"

namespace tether::core {

namespace {

// Per packet type a server may send: the fixed-header flags it must carry (table 2.2,
// [MQTT-2.2.2-1]), or 0xFF for types a server never sends. PUBLISH flags vary and are
// checked on their own.
constexpr std::uint8_t required_flags[16] = {
    0xFF,  // 0 reserved
    0xFF,  // CONNECT: client to server only
    0x0,   // CONNACK
    0x0,   // PUBLISH: DUP, QoS, RETAIN
    0x0,   // PUBACK
    0x0,   // PUBREC
    0x2,   // PUBREL [MQTT-3.6.1-1]
    0x0,   // PUBCOMP
    0xFF,  // SUBSCRIBE
    0x0,   // SUBACK
    0xFF,  // UNSUBSCRIBE
    0x0,   // UNSUBACK
    0xFF,  // PINGREQ
    0x0,   // PINGRESP
    0xFF,  // DISCONNECT
    0xFF,  // 15 reserved
};

std::uint16_t read_u16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace

error decode_frame_header(std::span<const std::uint8_t> in, frame_header& out) noexcept {
    if (in.empty()) return error::incomplete;
    const unsigned type = in[0] >> 4;
    const unsigned flags = in[0] & 0x0F;
    if (required_flags[type] == 0xFF) return error::unexpected_packet_type;
    if (type == static_cast<unsigned>(packet_type::publish)) {
        const unsigned q = (flags >> 1) & 0x03;
        if (q == 3) return error::invalid_qos;                   // [MQTT-3.3.1-4]
        if (q == 0 && (flags & 0x08)) return error::invalid_flags;  // [MQTT-3.3.1-2]
    } else if (flags != required_flags[type]) {
        return error::invalid_flags;  // [MQTT-2.2.2-2]
    }

    std::uint32_t length = 0;
    for (std::size_t i = 1;; ++i) {
        if (i == 5) return error::malformed_remaining_length;  // at most four bytes [MQTT-2.2.3]
        if (i >= in.size()) return error::incomplete;
        length |= static_cast<std::uint32_t>(in[i] & 0x7F) << (7 * (i - 1));
        if ((in[i] & 0x80) == 0) {
            out = {static_cast<packet_type>(type), static_cast<std::uint8_t>(flags), length,
                   static_cast<std::uint8_t>(i + 1)};
            return error::none;
        }
    }
}

error decode_packet(std::span<const std::uint8_t> frame, incoming_packet& out) noexcept {
    frame_header h;
    if (const error e = decode_frame_header(frame, h); e != error::none) return e;
    if (frame.size() < h.total_size()) return error::incomplete;
    if (frame.size() > h.total_size()) return error::invalid_length;

    const std::uint8_t* body = frame.data() + h.header_size;
    const std::size_t n = h.remaining_length;
    out = incoming_packet{};
    out.type = h.type;

    switch (h.type) {
    case packet_type::connack:
        if (n != 2) return error::invalid_length;
        // Bits 7-1 of the acknowledge flags are reserved and zero [MQTT-3.2.2.1]; codes
        // above 5 are reserved [MQTT-3.2.2.3]; a refusal has session present 0 [MQTT-3.2.2-4].
        if ((body[0] & 0xFE) != 0 || body[1] > 5 || (body[1] != 0 && body[0] != 0)) return error::invalid_connack;
        out.connack = {body[0] == 1, static_cast<connack_code>(body[1])};
        return error::none;

    case packet_type::publish: {
        const core::qos q = static_cast<core::qos>((h.flags >> 1) & 0x03);
        const std::size_t id_size = q == qos::at_most_once ? 0 : 2;
        if (n < 2) return error::invalid_length;
        const std::size_t topic_size = read_u16(body);
        if (n < 2 + topic_size + id_size) return error::invalid_length;
        const std::string_view topic{reinterpret_cast<const char*>(body + 2), topic_size};
        // A server's topic name is a name, never a filter [MQTT-3.3.2-2], in valid UTF-8.
        if (validate_topic_name(topic) != error::none) return error::invalid_topic_name;
        auto& p = out.publish;
        p.topic = topic;
        p.qos = q;
        p.retain = (h.flags & 0x01) != 0;
        p.dup = (h.flags & 0x08) != 0;
        std::size_t at = 2 + topic_size;
        if (id_size != 0) {
            p.packet_id = out.packet_id = read_u16(body + at);
            if (p.packet_id == 0) return error::zero_packet_id;  // [MQTT-2.3.1-1]
            at += 2;
        }
        p.payload = bytes{body + at, n - at};  // may be empty [MQTT-3.3.3]
        return error::none;
    }

    case packet_type::suback:
        if (n < 3) return error::invalid_length;  // a packet id and at least one code
        out.return_codes = bytes{body + 2, n - 2};
        for (const std::uint8_t c : out.return_codes) {
            if (c > 2 && c != suback_failure) return error::invalid_suback_code;  // [MQTT-3.9.3-2]
        }
        break;

    case packet_type::pingresp:
        return n == 0 ? error::none : error::invalid_length;

    default:  // PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: exactly a packet id
        if (n != 2) return error::invalid_length;
        break;
    }
    out.packet_id = read_u16(body);
    return out.packet_id == 0 ? error::zero_packet_id : error::none;
}

}  // namespace tether::core
