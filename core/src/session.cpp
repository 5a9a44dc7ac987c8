#include "tether/core/session.hpp"

#include <cstring>

#include "slot_state.hpp"
#include "tether/core/decode.hpp"

namespace tether::core {

using namespace detail;

session::session(std::span<outbound_slot> outbound, std::span<std::uint16_t> inbound_qos2,
                 std::span<std::uint8_t> rx, session_config config) noexcept
    : out_slots_(outbound), in_ids_(inbound_qos2), rx_(rx), config_(config) {
    inbound_clear();  // a bitmap given by the caller may hold anything
}

// ---------------------------------------------------------------- connection lifecycle

send_result session::connect(const connect_options& options, std::span<std::uint8_t> out, millis now) noexcept {
    const encode_result r = encode_connect(options, out);
    if (r.err != error::none) return {r.err, r.size};
    connection_lost();
    err_ = error::none;
    link_ = link::connecting;
    keep_alive_s_ = options.keep_alive_s;
    clean_session_ = options.clean_session;
    request_sent_ = last_sent_ = now;
    return {error::none, r.size};
}

void session::connection_lost() noexcept {
    link_ = link::down;
    ping_outstanding_ = false;
    rx_begin_ = rx_end_ = rx_release_ = 0;
    resend_next_ = resend_end_ = 0;
}

void session::reset() noexcept {
    connection_lost();
    out_count_ = publish_count_ = out_head_ = 0;
    inbound_clear();
    err_ = error::none;
}

void session::abandon_outbound() noexcept {
    // Those past PUBREC stay: the server has the message and waits for our PUBREL, which
    // must go until PUBCOMP [MQTT-4.4.0-1]. From the back, so the indices still to be
    // looked at do not move.
    for (std::size_t i = out_count_; i-- > 0;) {
        if (slot_at(i).state != awaiting_pubcomp) remove_slot(&slot_at(i));
    }
    resend_next_ = resend_end_ = 0;
}

bool session::abandon_outbound(std::uint16_t packet_id) noexcept {
    outbound_slot* slot = find_slot(packet_id, 0);
    if (slot == nullptr) return false;
    remove_slot(slot);
    return true;
}

send_result session::disconnect(std::span<std::uint8_t> out) noexcept {
    if (link_ == link::down) return {error::not_connected};
    const encode_result r = encode_disconnect(out);
    if (r.err == error::none) link_ = link::down;
    return {r.err, r.size};
}

// ---------------------------------------------------------------- outbound

error session::ready_to_send() const noexcept {
    if (err_ != error::none) return err_;
    return link_ == link::up ? error::none : error::not_connected;
}

std::uint16_t session::take_packet_id() noexcept {
    if (out_count_ == out_slots_.size()) return 0;
    if (out_count_ == 0) ids_wrapped_ = false;
    // Fewer than 65,535 ids are in use, so within out_count_ + 1 tries one is free
    // [MQTT-2.3.1-2]. Ids run 1..65535 and wrap, never 0 [MQTT-2.3.1-1].
    for (;;) {
        const std::uint16_t id = next_id_;
        next_id_ = id == 0xFFFF ? 1 : static_cast<std::uint16_t>(id + 1);
        if (out_count_ == 0) return id;
        // Slots are kept in the order their ids were taken, and ids are taken going round
        // 1..65535: every id in use lies from the oldest slot's up to the last one taken,
        // so the next is free unless it has come round to the oldest. Once it has, ids are
        // no longer in that order, and every slot is looked at until the session empties.
        if (!ids_wrapped_) {
            if (id != slot_at(0).packet_id) return id;
            ids_wrapped_ = true;
        }
        if (find_slot(id, 0) == nullptr) return id;
    }
}

outbound_slot& session::slot_at(std::size_t i) noexcept {
    i += out_head_;
    return out_slots_[i < out_slots_.size() ? i : i - out_slots_.size()];
}

outbound_slot* session::find_slot(std::uint16_t id, std::uint8_t state) noexcept {
    for (std::size_t i = 0; i < out_count_; ++i) {
        outbound_slot& s = slot_at(i);
        if (s.packet_id == id && (state == 0 || s.state == state)) return &s;
    }
    return nullptr;
}

void session::remove_slot(outbound_slot* slot) noexcept {
    // Shift rather than swap, so the slots stay in the order first sent and are resent in
    // that order [MQTT-4.6.0-1]. The slots are a ring: the oldest, which acknowledgements
    // mostly are, goes by moving the head; others by shifting the shorter side.
    publish_count_ -= is_publish_state(slot->state) ? 1 : 0;
    std::size_t k = static_cast<std::size_t>(slot - out_slots_.data()) + out_slots_.size() - out_head_;
    if (k >= out_slots_.size()) k -= out_slots_.size();
    if (2 * k < out_count_) {
        for (; k > 0; --k) slot_at(k) = slot_at(k - 1);
        out_head_ = out_head_ + 1 < out_slots_.size() ? out_head_ + 1 : 0;
    } else {
        for (; k + 1 < out_count_; ++k) slot_at(k) = slot_at(k + 1);
    }
    --out_count_;
}

send_result session::hold(send_result r, std::uint8_t state, std::uint16_t filter_count, millis now) noexcept {
    if (r.err != error::none) return {r.err, r.size};
    if (state != 0) {
        slot_at(out_count_++) = {r.packet_id, filter_count, state};
        publish_count_ += is_publish_state(state) ? 1 : 0;
    }
    last_sent_ = now;
    return r;
}

send_result session::publish(const publish_packet& packet, std::span<std::uint8_t> out, millis now) noexcept {
    if (const error e = ready_to_send(); e != error::none) return {e};
    publish_packet p = packet;
    p.dup = false;
    p.packet_id = 0;
    std::uint8_t state = 0;
    if (p.qos != qos::at_most_once) {
        const std::size_t window = config_.window != 0 ? config_.window : out_slots_.size();
        if (publishes_in_flight() >= window) return {error::window_full};
        p.packet_id = take_packet_id();
        if (p.packet_id == 0) return {error::packet_ids_exhausted};
        state = p.qos == qos::at_least_once ? awaiting_puback : awaiting_pubrec;
    }
    const encode_result r = encode_publish(p, out);
    return hold({r.err, r.size, p.packet_id}, state, 0, now);
}

send_result session::subscribe(std::span<const subscribe_topic> topics, std::span<std::uint8_t> out,
                               millis now) noexcept {
    if (const error e = ready_to_send(); e != error::none) return {e};
    const std::uint16_t id = take_packet_id();
    if (id == 0) return {error::packet_ids_exhausted};
    const encode_result r = encode_subscribe(id, topics, out);
    // A SUBSCRIBE of 65,535+ filters cannot fit the remaining length anyway.
    return hold({r.err, r.size, id}, awaiting_suback, static_cast<std::uint16_t>(topics.size()), now);
}

send_result session::unsubscribe(std::span<const std::string_view> filters, std::span<std::uint8_t> out,
                                 millis now) noexcept {
    if (const error e = ready_to_send(); e != error::none) return {e};
    const std::uint16_t id = take_packet_id();
    if (id == 0) return {error::packet_ids_exhausted};
    const encode_result r = encode_unsubscribe(id, filters, out);
    return hold({r.err, r.size, id}, awaiting_unsuback, 0, now);
}

send_result session::ping(std::span<std::uint8_t> out, millis now) noexcept {
    if (const error e = ready_to_send(); e != error::none) return {e};
    const encode_result r = encode_pingreq(out);
    if (r.err == error::none) ping_outstanding_ = true, request_sent_ = now;
    return hold({r.err, r.size}, 0, 0, now);
}

// ---------------------------------------------------------------- input

std::span<std::uint8_t> session::rx_space() noexcept {
    rx_begin_ += rx_release_;
    rx_release_ = 0;
    if (rx_begin_ != 0) {
        std::memmove(rx_.data(), rx_.data() + rx_begin_, rx_end_ - rx_begin_);
        rx_end_ -= rx_begin_;
        rx_begin_ = 0;
    }
    return rx_.subspan(rx_end_);
}

void session::rx_commit(std::size_t count) noexcept {
    const std::size_t room = rx_.size() - rx_end_;
    rx_end_ += count < room ? count : room;
}

std::size_t session::feed(bytes data) noexcept {
    // Input with no connection in progress, or after a fatal error, has no meaning.
    if (link_ == link::down || err_ != error::none) return data.size();
    const std::span<std::uint8_t> room = rx_space();
    const std::size_t n = data.size() < room.size() ? data.size() : room.size();
    if (n != 0) std::memcpy(room.data(), data.data(), n);
    rx_end_ += n;
    return n;
}

std::size_t session::rx_frame_size() const noexcept {
    const std::size_t from = rx_begin_ + rx_release_;
    frame_header h;
    if (decode_frame_header(bytes{rx_.data() + from, rx_end_ - from}, h) != error::none) return 0;
    return h.total_size();
}

bool session::rx_rebind(std::span<std::uint8_t> rx) noexcept {
    rx_begin_ += rx_release_;
    rx_release_ = 0;
    const std::size_t unread = rx_end_ - rx_begin_;
    if (rx.size() < unread) return false;
    if (unread != 0) std::memmove(rx.data(), rx_.data() + rx_begin_, unread);
    rx_ = rx;
    rx_begin_ = 0;
    rx_end_ = unread;
    return true;
}

// ---------------------------------------------------------------- inbound QoS 2 ids

namespace {
constexpr std::uint16_t id_bit(std::uint16_t id) noexcept { return static_cast<std::uint16_t>(1u << (id & 15u)); }
}  // namespace

bool session::inbound_has(std::uint16_t id) const noexcept {
    if (in_ids_.size() >= inbound_qos2_bitmap_size) return (in_ids_[id >> 4] & id_bit(id)) != 0;
    for (std::size_t i = 0; i < in_count_; ++i) {
        if (in_ids_[i] == id) return true;
    }
    return false;
}

void session::inbound_add(std::uint16_t id) noexcept {
    if (in_ids_.size() >= inbound_qos2_bitmap_size) {
        in_ids_[id >> 4] = static_cast<std::uint16_t>(in_ids_[id >> 4] | id_bit(id));
    } else {
        in_ids_[in_count_] = id;
    }
    ++in_count_;
}

void session::inbound_remove(std::uint16_t id) noexcept {
    if (!inbound_has(id)) return;
    if (in_ids_.size() >= inbound_qos2_bitmap_size) {
        in_ids_[id >> 4] = static_cast<std::uint16_t>(in_ids_[id >> 4] & ~id_bit(id));
        --in_count_;
        return;
    }
    std::size_t i = 0;
    while (in_ids_[i] != id) ++i;
    in_ids_[i] = in_ids_[--in_count_];
}

void session::inbound_clear() noexcept {
    if (in_ids_.size() >= inbound_qos2_bitmap_size) {
        for (std::size_t i = 0; i < inbound_qos2_bitmap_size; ++i) in_ids_[i] = 0;
    }
    in_count_ = 0;
}

bool session::rebind_inbound_qos2(std::span<std::uint16_t> ids) noexcept {
    const bool to_bitmap = ids.size() >= inbound_qos2_bitmap_size;
    if (!to_bitmap && ids.size() < in_count_) return false;
    if (to_bitmap) {
        for (std::size_t i = 0; i < inbound_qos2_bitmap_size; ++i) ids[i] = 0;
    }
    const std::span<std::uint16_t> old = in_ids_;
    const std::size_t count = in_count_;
    in_ids_ = ids;
    in_count_ = 0;
    if (old.size() >= inbound_qos2_bitmap_size) {
        for (std::size_t w = 0; w < inbound_qos2_bitmap_size; ++w) {
            for (std::size_t b = 0; b < 16; ++b) {
                if ((old[w] >> b) & 1u) inbound_add(static_cast<std::uint16_t>(w * 16 + b));
            }
        }
    } else {
        for (std::size_t i = 0; i < count; ++i) inbound_add(old[i]);
    }
    return true;
}

event session::fail(error e) noexcept {
    err_ = e;
    event ev;
    ev.type = event_type::error;
    ev.err = e;
    return ev;
}

event session::reply(event_type type, packet_type ack, std::uint16_t id) noexcept {
    event ev;
    ev.type = type;
    ev.packet_id = id;
    (void)encode_ack(ack, id, reply_);  // id is non-zero: decode rejects 0 [MQTT-2.3.1-1]
    ev.reply = reply_;
    return ev;
}

event session::resend(const outbound_slot& slot) noexcept {
    event ev;
    ev.packet_id = slot.packet_id;
    switch (slot.state) {
    case awaiting_pubcomp:  // past PUBREC: PUBREL again [MQTT-4.4.0-1]
        return reply(event_type::resend_pubrel, packet_type::pubrel, slot.packet_id);
    case awaiting_suback:
        ev.type = event_type::resend_subscribe;
        break;
    case awaiting_unsuback:
        ev.type = event_type::resend_unsubscribe;
        break;
    default:  // same packet id, DUP set [MQTT-2.3.1-3, 3.3.1-1]
        ev.type = event_type::resend_publish;
        break;
    }
    return ev;
}

event session::handle(const incoming_packet& in, millis now) noexcept {
    event ev;
    ev.packet_id = in.packet_id;

    if (link_ == link::connecting) {
        // The first packet from the server is CONNACK [MQTT-3.2.0-1].
        if (in.type != packet_type::connack) return fail(error::protocol_violation);
        ev.type = event_type::connack;
        ev.connack = in.connack;
        if (in.connack.code != connack_code::accepted) {
            err_ = error::connection_refused;  // the server closes the link [MQTT-3.2.2-5]
            return ev;
        }
        // A clean session is never a present one [MQTT-3.2.2-1].
        if (clean_session_ && in.connack.session_present) return fail(error::invalid_connack);
        link_ = link::up;
        last_sent_ = now;
        if (!in.connack.session_present) {
            // The server holds nothing of ours: forget the QoS 2 ids it would release, and
            // send every unacknowledged message again as a PUBLISH, those past PUBREC too.
            // A lone PUBREL for a message the server never stored would lose it.
            inbound_clear();
            for (std::size_t i = 0; i < out_count_; ++i) {
                if (slot_at(i).state == awaiting_pubcomp) slot_at(i).state = awaiting_pubrec;
            }
        }
        resend_next_ = 0;
        resend_end_ = out_count_;
        return ev;
    }

    outbound_slot* slot = nullptr;
    switch (in.type) {
    case packet_type::connack:
        return fail(error::protocol_violation);  // only one CONNACK per connection

    case packet_type::publish: {
        ev.type = event_type::message;
        ev.message = in.publish;
        if (in.publish.qos == qos::at_most_once) return ev;
        if (in.publish.qos == qos::at_least_once) {
            event r = reply(event_type::message, packet_type::puback, in.packet_id);  // [MQTT-4.3.2-2]
            r.message = in.publish;
            return r;
        }
        // QoS 2: deliver once, then only PUBREC until PUBREL releases the id [MQTT-4.3.3-2]
        // for a PUBLISH sent again, which has DUP set [MQTT-3.3.1-1]. Without DUP the
        // server began another message under the id, so it had finished the earlier one (a
        // broker that lost our PUBREC's state, say, and never sends its PUBREL): delivered,
        // not swallowed. No message is lost; only a server breaking the DUP rule gets a
        // duplicate.
        if (!inbound_has(in.packet_id)) {
            if (in_count_ == inbound_qos2_capacity()) return fail(error::inbound_qos2_full);
            inbound_add(in.packet_id);
        } else if (in.publish.dup) {
            return reply(event_type::send, packet_type::pubrec, in.packet_id);
        }
        event r = reply(event_type::message, packet_type::pubrec, in.packet_id);
        r.message = in.publish;
        return r;
    }

    case packet_type::pubrel: {
        // Release the id, and answer PUBCOMP whether or not it was known [MQTT-4.3.3-2].
        inbound_remove(in.packet_id);
        return reply(event_type::send, packet_type::pubcomp, in.packet_id);
    }

    case packet_type::pubrec:
        // A PUBREC again (e.g. after a resent PUBLISH) is answered with PUBREL again.
        slot = find_slot(in.packet_id, awaiting_pubrec);
        if (slot == nullptr) slot = find_slot(in.packet_id, awaiting_pubcomp);
        if (slot == nullptr) return ev;  // stray: ignored
        slot->state = awaiting_pubcomp;
        return reply(event_type::send, packet_type::pubrel, in.packet_id);  // [MQTT-4.3.3-1]

    case packet_type::puback:
        ev.type = event_type::puback;
        slot = find_slot(in.packet_id, awaiting_puback);
        if (slot == nullptr) {
            // A PUBACK for a QoS 2 PUBLISH: a server without QoS 2 (RabbitMQ) took it at
            // QoS 1. Done, and said so: holding the id for a PUBREC that never comes would
            // stall the message, and resending it would duplicate it.
            slot = find_slot(in.packet_id, awaiting_pubrec);
            if (slot != nullptr) ev.err = error::qos2_answered_with_puback;
        }
        break;

    case packet_type::pubcomp:
        ev.type = event_type::pubcomp;
        slot = find_slot(in.packet_id, awaiting_pubcomp);
        break;

    case packet_type::suback:
        ev.type = event_type::suback;
        ev.return_codes = in.return_codes;
        slot = find_slot(in.packet_id, awaiting_suback);
        // One return code per filter, in order [MQTT-3.8.4-5].
        if (slot != nullptr && slot->filter_count != in.return_codes.size()) {
            return fail(error::suback_count_mismatch);
        }
        break;

    case packet_type::unsuback:
        ev.type = event_type::unsuback;
        slot = find_slot(in.packet_id, awaiting_unsuback);
        break;

    default:  // PINGRESP; decode lets no other type through
        ev.type = event_type::pingresp;
        return ev;
    }
    if (slot == nullptr) return event{};  // an ack for no id of ours: ignored, not fatal
    remove_slot(slot);
    return ev;
}

event session::poll(millis now) noexcept {
    for (;;) {
        rx_begin_ += rx_release_;
        rx_release_ = 0;
        if (err_ != error::none) return fail(err_);

        event ev;
        if (resend_next_ < resend_end_) {
            ev = resend(slot_at(resend_next_++));
        } else if (link_ != link::down) {
            const bytes unread{rx_.data() + rx_begin_, rx_end_ - rx_begin_};
            frame_header h;
            const error e = decode_frame_header(unread, h);
            if (e != error::none && e != error::incomplete) return fail(e);
            if (e == error::none) {
                const std::size_t limit = config_.max_packet_size != 0 ? config_.max_packet_size : rx_.size();
                if (h.total_size() > limit) return fail(error::packet_too_large);
            }
            if (e == error::incomplete || h.total_size() > unread.size()) break;  // wait for more
            incoming_packet in;
            if (const error d = decode_packet(unread.first(h.total_size()), in); d != error::none) return fail(d);
            rx_release_ = h.total_size();
            ping_outstanding_ = false;  // anything from the server shows the link is alive
            ev = handle(in, now);
            if (ev.type == event_type::none) continue;  // an ignored packet: read on
        } else {
            break;
        }
        if (!ev.reply.empty() || ev.type >= event_type::resend_publish) last_sent_ = now;
        return ev;
    }

    // No complete packet waits: the clock's turn.
    const millis timeout = config_.response_timeout_ms;
    if (link_ == link::connecting && now - request_sent_ >= connack_timeout()) return fail(error::connack_timeout);
    if (link_ == link::up) {
        if (ping_outstanding_) {
            if (now - request_sent_ >= timeout) return fail(error::keep_alive_timeout);
        } else if (keep_alive_s_ != 0 && now - last_sent_ >= keep_alive_s_ * 1000u) {
            // Nothing sent for a whole keep-alive: PINGREQ [MQTT-3.1.2-23].
            ping_outstanding_ = true;
            request_sent_ = last_sent_ = now;
            event ev;
            ev.type = event_type::send;
            reply_[0] = 0xC0;
            reply_[1] = 0x00;
            ev.reply = bytes{reply_.data(), 2};
            return ev;
        }
    }
    return event{};
}

millis session::next_timeout(millis now) const noexcept {
    millis since = 0;
    millis span = 0;
    if (err_ != error::none || link_ == link::down) return no_timeout;
    if (link_ == link::connecting) {
        since = request_sent_, span = connack_timeout();
    } else if (ping_outstanding_) {
        since = request_sent_, span = config_.response_timeout_ms;
    } else if (keep_alive_s_ != 0) {
        since = last_sent_, span = keep_alive_s_ * 1000u;
    } else {
        return no_timeout;
    }
    const millis elapsed = now - since;
    return elapsed >= span ? 0 : span - elapsed;
}

}  // namespace tether::core
