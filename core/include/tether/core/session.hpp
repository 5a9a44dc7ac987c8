#pragma once
// The MQTT 3.1.1 client session as a sans-I/O state machine.
//
// The caller owns every byte of memory and does all I/O. It
//   1. starts a connection with connect() and sends the bytes it writes,
//   2. puts received bytes in with feed() (or rx_space() + rx_commit()),
//   3. calls poll(now) until it returns event_type::none, sending `reply` of every event
//      that has one and acting on the event,
//   4. calls poll(now) again no later than next_timeout(now) milliseconds from now, so
//      that keep-alive and response timeouts fire.
//
// The session never stores message bodies: it tells the caller which packet ids to send
// again after a reconnect (event resend_publish and friends), and the caller keeps the
// bytes it encoded until puback / pubcomp for that id.
//
// Lifetime of views: topic, payload and return codes in an event point into the receive
// buffer and stay valid until the next call of any non-const member function. `reply`
// points into the session and has the same lifetime.
//
// Errors the server causes are sticky: once poll() returns event_type::error, it returns
// the same error until connect() (another connection, same session state) or reset().
//
//   std::array<outbound_slot, 16> out_slots; std::array<std::uint16_t, 16> qos2_ids;
//   std::array<std::uint8_t, 1024> rx;
//   session s{out_slots, qos2_ids, rx};    // or: static_session<16, 16, 1024> s;
//   auto r = s.connect({.client_id = "dev1"}, tx, now);   send(tx, r.size);
//   s.feed(received);
//   for (auto ev = s.poll(now); ev.type != event_type::none; ev = s.poll(now)) {
//       send(ev.reply);
//       if (ev.type == event_type::message) handle(ev.message.topic, ev.message.payload);
//   }

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "tether/core/encode.hpp"
#include "tether/core/error.hpp"
#include "tether/core/packet.hpp"

namespace tether::core {

// Milliseconds on any monotonic clock the caller likes. Only differences are used, so the
// counter may wrap (intervals must stay under 24 days).
using millis = std::uint32_t;

inline constexpr millis no_timeout = 0xFFFF'FFFF;

// One outbound packet id in use, in the order the packets were first sent [MQTT-4.6.0-1].
struct outbound_slot {
    std::uint16_t packet_id = 0;
    std::uint16_t filter_count = 0;  // SUBSCRIBE: filters sent, to check the SUBACK
    std::uint8_t state = 0;          // session-private
};

struct session_config {
    // At most this many QoS 1/2 PUBLISHes in flight; 0 means as many as there are slots.
    std::uint16_t window = 0;
    // How long to wait for any packet after PINGREQ, and for CONNACK after CONNECT unless
    // connack_timeout_ms says otherwise.
    millis response_timeout_ms = 10'000;
    // How long to wait for CONNACK after CONNECT; 0: response_timeout_ms.
    millis connack_timeout_ms = 0;
    // Largest packet accepted from the server, header included; 0 means the receive
    // buffer's size. A larger limit than the buffer is allowed when the caller grows the
    // buffer with rx_rebind() when rx_space() is empty.
    std::uint32_t max_packet_size = 0;
};

enum class event_type : std::uint8_t {
    none,                // nothing more to do now
    connack,             // connack: the CONNACK; a refusal is followed by error connection_refused
    message,             // message: an application message to deliver (QoS 2: exactly once)
    puback,              // packet_id: a QoS 1 publish is done; drop its bytes. err is
                         // qos2_answered_with_puback when it was a QoS 2 one (see error.hpp)
    pubcomp,             // packet_id: a QoS 2 publish is done; drop its bytes
    suback,              // packet_id, return_codes
    unsuback,            // packet_id
    pingresp,            // the server answered PINGREQ
    send,                // only `reply` to send (PINGREQ due, PUBREC for a duplicate, PUBCOMP, PUBREL)
    resend_publish,      // packet_id: send that PUBLISH again with DUP set (mark_dup)
    resend_pubrel,       // packet_id: `reply` holds the PUBREL to send again
    resend_subscribe,    // packet_id: send that SUBSCRIBE again
    resend_unsubscribe,  // packet_id: send that UNSUBSCRIBE again
    error,               // err: fatal and sticky; close the connection
};

struct event {
    event_type type = event_type::none;
    error err = error::none;
    std::uint16_t packet_id = 0;
    connack_packet connack{};
    publish_packet message{};
    bytes return_codes{};
    bytes reply{};  // bytes to send now, in order, when not empty
};

struct [[nodiscard]] send_result {
    error err = error::none;
    std::size_t size = 0;          // bytes written to `out` (or needed, on buffer_too_small)
    std::uint16_t packet_id = 0;   // the id given to the packet; 0 for QoS 0
};

class session {
public:
    // outbound: one slot per packet id in use (QoS 1/2 PUBLISH, SUBSCRIBE, UNSUBSCRIBE);
    // inbound_qos2: ids of QoS 2 messages received and not yet released [MQTT-4.3.3-2]: a
    // list of up to its size, or, from inbound_qos2_bitmap_size entries (8 KiB) up, a bitmap
    // of every id, which never fills (how many messages await PUBREL is the server's choice);
    // rx: the receive buffer, which also bounds the largest packet unless config says more.
    session(std::span<outbound_slot> outbound, std::span<std::uint16_t> inbound_qos2,
            std::span<std::uint8_t> rx, session_config config = {}) noexcept;

    // Starts a connection on a fresh transport: writes CONNECT to `out`, drops what is
    // left of the previous connection's input, clears a sticky error, and keeps the
    // session state (packet ids in flight, QoS 2 ids received) for resumption.
    // Errors: those of encode_connect.
    send_result connect(const connect_options& options, std::span<std::uint8_t> out, millis now) noexcept;

    // The transport closed. Session state stays for the next connect().
    void connection_lost() noexcept;

    // Forgets everything: in-flight ids, received QoS 2 ids, input, errors.
    void reset() noexcept;

    // Forgets the outbound packet ids in flight (publishes, subscribes, unsubscribes): the
    // application gave them up, so nothing of them is sent again. Kept: QoS 2 publishes past
    // PUBREC, whose PUBREL still goes on each connection until PUBCOMP [MQTT-4.4.0-1] (the
    // server has them; without PUBREL it holds the id for ever and may never deliver them).
    // Received QoS 2 ids stay.
    void abandon_outbound() noexcept;
    // The same for one packet id (a message the server refuses), between connections;
    // false if it is not in use.
    bool abandon_outbound(std::uint16_t packet_id) noexcept;

    // Forgets one received QoS 2 id as a PUBREL would, answering nothing: the caller never
    // sent its PUBREC (the application did not take the message), so when the server sends
    // that PUBLISH again it is delivered again rather than only answered [MQTT-4.3.3-2].
    void forget_inbound(std::uint16_t packet_id) noexcept { inbound_remove(packet_id); }
    // The client's durable outbox: puts back, between connections (before the first
    // connect() of a restarted client), a QoS 1/2 PUBLISH an earlier run had in flight.
    // Its packet id is held as if sent, in call order, and the next CONNACK resends it:
    // as PUBREL when `released` (past PUBREC) and the server kept the session, else as a
    // PUBLISH with DUP (the caller keeps its bytes, as for any publish). Errors:
    // protocol_violation (the link is not down), invalid_packet_id (0, or in use),
    // invalid_qos (not 1 or 2), packet_ids_exhausted (no free slot).
    [[nodiscard]] error restore_publish(std::uint16_t packet_id, qos q, bool released) noexcept;
    // Puts back, between connections, a received QoS 2 id awaiting PUBREL, so that a
    // restarted client does not deliver that message again. Errors: invalid_packet_id (0),
    // inbound_qos2_full (grow the table first with rebind_inbound_qos2), protocol_violation
    // (the link is not down).
    [[nodiscard]] error restore_inbound_qos2(std::uint16_t packet_id) noexcept;
    // Moves the outbound slots, between connections, to other storage, e.g. larger, so
    // that every PUBLISH an earlier run had in flight can be restored with its packet id
    // even past a window smaller than it had then. False, changing nothing, if the link
    // is not down or the ids in use do not fit.
    bool rebind_outbound(std::span<outbound_slot> slots) noexcept;

    // Moves the received QoS 2 ids to other storage, e.g. larger, before the table fills
    // (a full list fails the connection with inbound_qos2_full). False, changing nothing,
    // if they do not fit.
    bool rebind_inbound_qos2(std::span<std::uint16_t> ids) noexcept;
    [[nodiscard]] std::size_t inbound_qos2_count() const noexcept { return in_count_; }
    // How many ids the table holds: its size, or every id when it is a bitmap.
    [[nodiscard]] std::size_t inbound_qos2_capacity() const noexcept {
        return in_ids_.size() >= inbound_qos2_bitmap_size ? 0xFFFF : in_ids_.size();
    }
    // From this many entries up the inbound table is a bitmap of all 65,536 ids.
    static constexpr std::size_t inbound_qos2_bitmap_size = 65'536 / 16;

    // Writes DISCONNECT [MQTT-3.14] and ends the connection; the will is not sent by the
    // server after it. Errors: not_connected, buffer_too_small.
    send_result disconnect(std::span<std::uint8_t> out) noexcept;

    // Writes a PUBLISH. For QoS 1/2 it takes a free packet id and holds it until PUBACK
    // or PUBCOMP; the caller keeps the written bytes until then to send them again.
    // The packet's packet_id and dup are ignored. Errors: a sticky error, not_connected,
    // window_full, packet_ids_exhausted, and those of encode_publish.
    send_result publish(const publish_packet& packet, std::span<std::uint8_t> out, millis now) noexcept;

    // Writes a SUBSCRIBE with a fresh packet id held until SUBACK. Errors: a sticky error,
    // not_connected, packet_ids_exhausted, and those of encode_subscribe.
    send_result subscribe(std::span<const subscribe_topic> topics, std::span<std::uint8_t> out, millis now) noexcept;

    // Writes an UNSUBSCRIBE with a fresh packet id held until UNSUBACK. Errors: a sticky
    // error, not_connected, packet_ids_exhausted, and those of encode_unsubscribe.
    send_result unsubscribe(std::span<const std::string_view> filters, std::span<std::uint8_t> out,
                            millis now) noexcept;

    // Writes PINGREQ now and expects an answer within the response timeout.
    // Errors: a sticky error, not_connected, buffer_too_small.
    send_result ping(std::span<std::uint8_t> out, millis now) noexcept;

    // Input. feed() copies as much of `data` as fits and returns how much it took;
    // rx_space()/rx_commit() let the caller read straight into the buffer.
    std::size_t feed(bytes data) noexcept;
    [[nodiscard]] std::span<std::uint8_t> rx_space() noexcept;
    void rx_commit(std::size_t count) noexcept;
    // Size of the packet being received, once its fixed header is in; otherwise 0.
    [[nodiscard]] std::size_t rx_frame_size() const noexcept;
    // Moves the unread input to another buffer (e.g. a larger one); false if it won't fit.
    bool rx_rebind(std::span<std::uint8_t> rx) noexcept;

    // Processes input and time; returns one event at a time. See event_type.
    [[nodiscard]] event poll(millis now) noexcept;

    // Milliseconds until poll() has something to do by the clock alone, or no_timeout.
    [[nodiscard]] millis next_timeout(millis now) const noexcept;

    [[nodiscard]] bool is_connected() const noexcept { return link_ == link::up && err_ == error::none; }
    [[nodiscard]] error sticky_error() const noexcept { return err_; }
    // Packet ids in use (QoS 1/2 publishes, subscribes and unsubscribes awaiting acks).
    [[nodiscard]] std::size_t in_flight() const noexcept { return out_count_; }
    // QoS 1/2 publishes awaiting acks, the number the window limits.
    [[nodiscard]] std::size_t publishes_in_flight() const noexcept { return publish_count_; }

private:
    enum class link : std::uint8_t { down, connecting, up };

    std::uint16_t take_packet_id() noexcept;
    outbound_slot& slot_at(std::size_t i) noexcept;  // i-th oldest
    outbound_slot* find_slot(std::uint16_t id, std::uint8_t state) noexcept;
    void remove_slot(outbound_slot* slot) noexcept;
    send_result hold(send_result r, std::uint8_t state, std::uint16_t filter_count, millis now) noexcept;
    // The received QoS 2 ids, whether a list or a bitmap.
    [[nodiscard]] bool inbound_has(std::uint16_t id) const noexcept;
    void inbound_add(std::uint16_t id) noexcept;  // the caller checked it is absent and there is room
    void inbound_remove(std::uint16_t id) noexcept;
    void inbound_clear() noexcept;
    event fail(error e) noexcept;
    event handle(const incoming_packet& packet, millis now) noexcept;
    event resend(const outbound_slot& slot) noexcept;
    event reply(event_type type, packet_type ack, std::uint16_t id) noexcept;
    error ready_to_send() const noexcept;
    [[nodiscard]] millis connack_timeout() const noexcept {
        return config_.connack_timeout_ms != 0 ? config_.connack_timeout_ms : config_.response_timeout_ms;
    }

    std::span<outbound_slot> out_slots_;
    std::span<std::uint16_t> in_ids_;
    std::span<std::uint8_t> rx_;
    session_config config_;
    std::size_t out_head_ = 0;  // out_slots_ is a ring: the oldest slot
    std::size_t out_count_ = 0;
    std::size_t publish_count_ = 0;  // of out_count_, the QoS 1/2 PUBLISHes
    std::size_t in_count_ = 0;
    std::size_t rx_begin_ = 0;    // first unread byte
    std::size_t rx_end_ = 0;      // one past the last received byte
    std::size_t rx_release_ = 0;  // bytes of the packet last returned, freed on the next call
    std::size_t resend_next_ = 0;
    std::size_t resend_end_ = 0;
    millis last_sent_ = 0;
    millis request_sent_ = 0;     // CONNECT or PINGREQ awaiting its answer
    std::uint16_t keep_alive_s_ = 0;
    std::uint16_t next_id_ = 1;
    error err_ = error::none;
    link link_ = link::down;
    bool clean_session_ = true;
    bool ping_outstanding_ = false;
    bool ids_wrapped_ = false;  // ids came round to one in use: look at every slot until none is
    std::array<std::uint8_t, 4> reply_{};
};

// A session with its memory inside: Outbound packet ids in flight, InboundQos2 QoS 2
// messages awaiting PUBREL, and an RxBytes receive buffer.
template <std::size_t Outbound, std::size_t InboundQos2, std::size_t RxBytes>
class static_session : public session {
public:
    explicit static_session(session_config config = {}) noexcept
        : session(out_storage_, in_storage_, rx_storage_, config) {}
    static_session(const static_session&) = delete;  // the base views the storage below
    static_session& operator=(const static_session&) = delete;

private:
    std::array<outbound_slot, Outbound> out_storage_{};
    std::array<std::uint16_t, InboundQos2> in_storage_{};
    std::array<std::uint8_t, RxBytes> rx_storage_{};
};

}  // namespace tether::core
