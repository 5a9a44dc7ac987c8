#pragma once
// The one error enum of the core. Every core function that can fail returns one of
// these; a function's documentation lists which.

#include <cstdint>

namespace tether::core {

enum class error : std::uint8_t {
    none = 0,

    // Not a failure: the decoder needs more bytes to finish a packet.
    incomplete,

    // Mistakes in what the caller asked for (encoders and session calls). Not sticky.
    // A few (invalid_topic_name, invalid_qos) also name a server's violation in decoding;
    // in a session every error an event carries is fatal for the connection.
    buffer_too_small,         // the output span is smaller than the packet; `size` says how big
    packet_too_large,         // remaining length past 268,435,455 or past the caller's limit
    invalid_topic_name,       // empty, wildcard, > 65,535 bytes, bad UTF-8, U+0000 [MQTT-4.7.3-1..3]
    invalid_topic_filter,     // misplaced '#' or '+', empty, bad UTF-8 [MQTT-4.7.1-2, 4.7.1-3]
    invalid_string,           // a UTF-8 field that is ill-formed, has U+0000 or is too long [MQTT-1.5.3-1, 1.5.3-2]
    invalid_qos,              // QoS 3 [MQTT-3.3.1-4]
    invalid_packet_id,        // packet id 0 where one is required [MQTT-2.3.1-1]
    no_topic_filters,         // SUBSCRIBE or UNSUBSCRIBE with no filter [MQTT-3.8.3-3, 3.10.3-2]
    password_without_user_name,               // [MQTT-3.1.2-22]
    empty_client_id_requires_clean_session,   // [MQTT-3.1.3-7]
    not_connected,            // the session has no accepted connection
    window_full,              // the caller's window of QoS 1/2 messages in flight is full
    packet_ids_exhausted,     // every outbound slot holds a packet id still in use [MQTT-2.3.1-2]

    // What a server can do wrong. Sticky in a session until connect() or reset().
    malformed_remaining_length,  // a fifth length byte [MQTT-2.2.3]
    unexpected_packet_type,      // a type no server sends (CONNECT, SUBSCRIBE, ..., reserved 0/15)
    invalid_flags,               // reserved fixed-header flag bits not as specified [MQTT-2.2.2-2]
    invalid_length,              // remaining length wrong for the packet type or its fields
    zero_packet_id,              // a packet id of 0 [MQTT-2.3.1-1]
    invalid_connack,             // reserved ack flags, unknown return code, or session present with a refusal [MQTT-3.2.2-4]
    invalid_suback_code,         // a SUBACK return code other than 0, 1, 2, 0x80 [MQTT-3.9.3-2]
    suback_count_mismatch,       // SUBACK codes do not match the filters sent [MQTT-3.8.4-5]
    protocol_violation,          // a packet out of order: before CONNACK, a second CONNACK, ...
    connection_refused,          // CONNACK return code 1..5; the connack event carries it
    keep_alive_timeout,          // no packet arrived within the response timeout after PINGREQ
    connack_timeout,             // no CONNACK within the response timeout after CONNECT
    inbound_qos2_full,           // more QoS 2 messages awaiting PUBREL than the table holds

    // Not fatal: carried by a puback event whose QoS 2 PUBLISH the server answered with
    // PUBACK instead of PUBREC (it has no QoS 2, as RabbitMQ 3.10: delivered at QoS 1).
    qos2_answered_with_puback,
};

}  // namespace tether::core
