#pragma once
// Errors of the client, as std::error_code. Two categories:
//   tether::client::errc   what the client itself reports (below), category "tether";
//   tether::core::error    a protocol violation found by the core, category "tether.core".
// Transport errors (resolve, connect, TLS, read, write) are Asio's and OpenSSL's own codes.

#include <system_error>

#include "tether/core/error.hpp"

namespace tether::client {

enum class errc {
    // CONNACK refusals [MQTT-3.2.2.3], numbered as the return code.
    unacceptable_protocol_version = 1,
    identifier_rejected = 2,
    server_unavailable = 3,
    bad_user_name_or_password = 4,
    not_authorized = 5,

    not_connected = 100,     // no connection, and the operation cannot wait for one
    already_connected,       // connect() on a client that is connected or connecting
    timeout,                 // the operation's time limit passed (request, disconnect, connect)
    queue_full,              // the offline queue is at its bound and the policy rejects new messages
    message_dropped,         // the offline queue dropped this message to make room (drop_oldest)
    subscription_refused,    // the server answered 0x80 for a filter [MQTT-3.9.3]
    connection_lost,         // the link dropped before the operation could complete
    client_stopped,          // disconnect() or destruction ended the operation
    invalid_argument,        // a topic, filter, QoS or option the specification forbids
    message_too_large,       // larger than options::max_message_size
    // The server closed the connection each time (three) this message was sent alone, after
    // answering the PINGREQ ahead of it and before the one behind it, the last two times on
    // links that had lasted 500 ms without it: it refuses it (NATS 2.9 has no QoS 2; AWS IoT
    // closes on a topic the policy forbids). Never sent again.
    publish_refused,
    // A handler rejected a message it took the acknowledgement of (deferred_ack): the client
    // closed the connection so that the server delivers the message again.
    message_rejected,
    // More messages awaited their acknowledgement than options::max_pending_acks: the client
    // closed the connection; the server delivers the unacknowledged ones again.
    too_many_pending_acks,
};

[[nodiscard]] const std::error_category& client_category() noexcept;
[[nodiscard]] const std::error_category& core_category() noexcept;

[[nodiscard]] inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), client_category()};
}

// True for errors that retrying cannot fix: refused credentials or identity, a server that
// speaks another protocol, a certificate that does not verify. Reconnecting stops on them.
[[nodiscard]] bool is_permanent(const std::error_code& ec) noexcept;

}  // namespace tether::client

namespace tether::core {
[[nodiscard]] inline std::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), client::core_category()};
}
}  // namespace tether::core

template <>
struct std::is_error_code_enum<tether::client::errc> : std::true_type {};
template <>
struct std::is_error_code_enum<tether::core::error> : std::true_type {};
