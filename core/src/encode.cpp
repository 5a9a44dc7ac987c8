#include "tether/core/encode.hpp"

#include <cstring>

#include "tether/core/topic.hpp"
#include "tether/core/utf8.hpp"

namespace tether::core {

namespace {

// Writes into the caller's span and counts every byte, also past its end, so one pass
// both fills the buffer and measures the packet.
class writer {
public:
    explicit writer(std::span<std::uint8_t> out) noexcept : out_(out) {}

    void byte(std::uint32_t b) noexcept {
        if (len_ < out_.size()) out_[len_] = static_cast<std::uint8_t>(b);
        ++len_;
    }
    void u16(std::uint32_t v) noexcept {
        byte(v >> 8);
        byte(v & 0xFF);
    }
    void raw(const void* data, std::size_t n) noexcept {
        if (n != 0 && len_ <= out_.size() && n <= out_.size() - len_) std::memcpy(out_.data() + len_, data, n);
        len_ += n;
    }
    // A length-prefixed string or binary field [MQTT-1.5.3].
    void field(const void* data, std::size_t n) noexcept {
        u16(static_cast<std::uint32_t>(n));
        raw(data, n);
    }
    void field(std::string_view s) noexcept { field(s.data(), s.size()); }
    void field(bytes b) noexcept { field(b.data(), b.size()); }

    // The fixed header [MQTT-2.2]: type and flags, then the remaining length in 1..4
    // bytes of 7 bits each, least significant first [MQTT-2.2.3].
    void fixed_header(packet_type type, std::uint32_t flags, std::uint32_t remaining) noexcept {
        byte((static_cast<std::uint32_t>(type) << 4) | flags);
        do {
            std::uint32_t digit = remaining & 0x7F;
            remaining >>= 7;
            if (remaining != 0) digit |= 0x80;
            byte(digit);
        } while (remaining != 0);
    }

    [[nodiscard]] encode_result finish() const noexcept {
        return {len_ <= out_.size() ? error::none : error::buffer_too_small, len_};
    }

private:
    std::span<std::uint8_t> out_;
    std::size_t len_ = 0;
};

bool is_valid_string(std::string_view s) noexcept {
    return s.size() <= max_string_length && is_valid_mqtt_utf8(s);
}

}  // namespace

encode_result encode_connect(const connect_options& o, std::span<std::uint8_t> out) noexcept {
    if (!is_valid_string(o.client_id)) return {error::invalid_string};
    if (o.client_id.empty() && !o.clean_session) return {error::empty_client_id_requires_clean_session};
    if (o.password && !o.user_name) return {error::password_without_user_name};
    if (o.user_name && !is_valid_string(*o.user_name)) return {error::invalid_string};
    if (o.password && o.password->size() > max_string_length) return {error::invalid_string};

    // Variable header: protocol name, level, flags, keep-alive [MQTT-3.1.2].
    std::uint32_t flags = o.clean_session ? 0x02 : 0x00;
    std::size_t remaining = 10 + 2 + o.client_id.size();
    if (const will_message* w = o.will) {
        if (const error e = validate_topic_name(w->topic); e != error::none) return {e};
        if (w->qos > qos::exactly_once) return {error::invalid_qos};
        if (w->payload.size() > max_string_length) return {error::invalid_string};
        // Will flag, will QoS in bits 4-3, will retain [MQTT-3.1.2-9, 3.1.2-14, 3.1.2-17].
        flags |= 0x04 | (static_cast<std::uint32_t>(w->qos) << 3) | (w->retain ? 0x20 : 0);
        remaining += 4 + w->topic.size() + w->payload.size();
    }
    if (o.user_name) flags |= 0x80, remaining += 2 + o.user_name->size();
    if (o.password) flags |= 0x40, remaining += 2 + o.password->size();

    writer w{out};
    w.fixed_header(packet_type::connect, 0, static_cast<std::uint32_t>(remaining));
    w.field(std::string_view{"MQTT"});  // [MQTT-3.1.2-1]
    w.byte(4);                          // protocol level 4 is 3.1.1 [MQTT-3.1.2-2]
    w.byte(flags);                      // bit 0 reserved, zero [MQTT-3.1.2-3]
    w.u16(o.keep_alive_s);
    // Payload in the order the specification fixes [MQTT-3.1.3-1].
    w.field(o.client_id);
    if (o.will) {
        w.field(o.will->topic);
        w.field(o.will->payload);
    }
    if (o.user_name) w.field(*o.user_name);
    if (o.password) w.field(*o.password);
    return w.finish();
}

encode_result encode_publish(const publish_packet& p, std::span<std::uint8_t> out) noexcept {
    if (const error e = validate_topic_name(p.topic); e != error::none) return {e};
    if (p.qos > qos::exactly_once) return {error::invalid_qos};
    const bool has_id = p.qos != qos::at_most_once;
    if (has_id && p.packet_id == 0) return {error::invalid_packet_id};
    if (!has_id && p.dup) return {error::invalid_flags};  // [MQTT-3.3.1-2]

    const std::size_t remaining = 2 + p.topic.size() + (has_id ? 2 : 0) + p.payload.size();
    if (remaining > max_remaining_length) return {error::packet_too_large};
    const std::uint32_t flags =
        (p.dup ? 0x08 : 0) | (static_cast<std::uint32_t>(p.qos) << 1) | (p.retain ? 0x01 : 0);

    writer w{out};
    w.fixed_header(packet_type::publish, flags, static_cast<std::uint32_t>(remaining));
    w.field(p.topic);
    if (has_id) w.u16(p.packet_id);  // absent for QoS 0 [MQTT-2.3.1-5]
    w.raw(p.payload.data(), p.payload.size());
    return w.finish();
}

encode_result encode_ack(packet_type type, std::uint16_t packet_id, std::span<std::uint8_t> out) noexcept {
    if (type < packet_type::puback || type > packet_type::pubcomp) return {error::unexpected_packet_type};
    if (packet_id == 0) return {error::invalid_packet_id};
    writer w{out};
    w.fixed_header(type, type == packet_type::pubrel ? 0x02 : 0, 2);  // [MQTT-3.6.1-1]
    w.u16(packet_id);
    return w.finish();
}

namespace {

// SUBSCRIBE and UNSUBSCRIBE differ only in their type and in the QoS byte after each
// filter, so one function writes both; `topics` or `filters` is set.
encode_result encode_filters(packet_type type, std::uint16_t packet_id, std::span<const subscribe_topic> topics,
                             std::span<const std::string_view> filters, std::span<std::uint8_t> out) noexcept {
    const bool is_subscribe = type == packet_type::subscribe;
    const std::size_t count = is_subscribe ? topics.size() : filters.size();
    if (packet_id == 0) return {error::invalid_packet_id};
    if (count == 0) return {error::no_topic_filters};  // [MQTT-3.8.3-3, 3.10.3-2]
    std::size_t remaining = 2;
    for (std::size_t i = 0; i < count; ++i) {
        const std::string_view f = is_subscribe ? topics[i].filter : filters[i];
        if (const error e = validate_topic_filter(f); e != error::none) return {e};
        if (is_subscribe && topics[i].max_qos > qos::exactly_once) return {error::invalid_qos};
        remaining += 2 + f.size() + (is_subscribe ? 1 : 0);
    }
    if (remaining > max_remaining_length) return {error::packet_too_large};

    writer w{out};
    w.fixed_header(type, 0x02, static_cast<std::uint32_t>(remaining));  // [MQTT-3.8.1-1, 3.10.1-1]
    w.u16(packet_id);
    for (std::size_t i = 0; i < count; ++i) {
        w.field(is_subscribe ? topics[i].filter : filters[i]);
        if (is_subscribe) w.byte(static_cast<std::uint32_t>(topics[i].max_qos));  // upper 6 bits 0 [MQTT-3.8.3-4]
    }
    return w.finish();
}

}  // namespace

encode_result encode_subscribe(std::uint16_t packet_id, std::span<const subscribe_topic> topics,
                               std::span<std::uint8_t> out) noexcept {
    return encode_filters(packet_type::subscribe, packet_id, topics, {}, out);
}

encode_result encode_unsubscribe(std::uint16_t packet_id, std::span<const std::string_view> filters,
                                 std::span<std::uint8_t> out) noexcept {
    return encode_filters(packet_type::unsubscribe, packet_id, {}, filters, out);
}

encode_result encode_empty(packet_type type, std::span<std::uint8_t> out) noexcept {
    if (type != packet_type::pingreq && type != packet_type::disconnect) return {error::unexpected_packet_type};
    writer w{out};
    w.fixed_header(type, 0, 0);
    return w.finish();
}

}  // namespace tether::core
