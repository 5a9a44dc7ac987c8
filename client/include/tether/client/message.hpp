#pragma once
// An application message as a subscription handler sees it, and the acknowledgement a
// handler may take over from the client (defer_ack).

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>

#include "tether/core/packet.hpp"

namespace tether::client {

namespace detail {
class engine;
}

// The acknowledgement of one QoS 1/2 message (PUBACK, or PUBREC for QoS 2), taken over by
// the application with message::defer_ack(). Move-only. Use it on the client's executor.
//
//   accept()   the message is processed: the acknowledgement goes out, after those of every
//              message that arrived before it [MQTT-4.6.0-2, 4.6.0-3];
//   reject(), or destroying it un-accepted: the message was not processed. MQTT 3.1.1 has no
//              negative acknowledgement, so the client closes the connection and reconnects
//              (reconnect policy); a server holding a persistent session (clean_session
//              false) then delivers the message again, with dup set. With a clean session
//              the server discards it: it is lost.
//
// A token outlives the connection its message came on when the link drops first, or when
// another token's rejection closed it: it is then inert (accept() says connection_lost,
// reject() does nothing), and the server delivers the message again on the new connection.
class deferred_ack {
public:
    deferred_ack() = default;
    deferred_ack(deferred_ack&& other) noexcept;
    deferred_ack& operator=(deferred_ack&& other) noexcept;  // rejects the one held first
    deferred_ack(const deferred_ack&) = delete;
    deferred_ack& operator=(const deferred_ack&) = delete;
    ~deferred_ack();  // reject() unless accepted or rejected

    // True while it holds an acknowledgement to give. An empty token (default-made, moved
    // from, used, or from defer_ack() on a QoS 0 message or too late) accepts and rejects
    // nothing.
    [[nodiscard]] explicit operator bool() const noexcept { return delivery_ != 0; }

    // Sends the acknowledgement, or holds it until those of earlier messages have gone.
    // Errors: connection_lost (the connection this message came on has ended; the server
    // delivers it again if the session is persistent), client_stopped (the client is gone).
    // An empty token: no error, nothing sent.
    std::error_code accept() noexcept;
    // Withholds the acknowledgement and closes the connection (see above); nothing if the
    // connection has already ended.
    void reject() noexcept;

private:
    friend struct message;
    deferred_ack(std::weak_ptr<detail::engine> source, std::uint64_t delivery) noexcept
        : source_(std::move(source)), delivery_(delivery) {}
    std::weak_ptr<detail::engine> source_;
    std::uint64_t delivery_ = 0;
};

// Topic and payload are valid for the handler call only (a copy is made for asynchronous
// handlers). The payload is followed by a NUL byte, so a text payload can be used as a C
// string: text().data() is NUL-terminated.
struct message {
    std::string_view topic{};
    std::span<const std::uint8_t> payload{};
    core::qos qos = core::qos::at_most_once;
    bool retain = false;
    bool dup = false;
    // Set by the client for defer_ack(); applications leave them as they are.
    std::weak_ptr<detail::engine> source{};
    std::uint64_t delivery = 0;  // this message's number on its client; 0: QoS 0
    // The packet id the server gave this PUBLISH (QoS 1/2); 0 for QoS 0, which has none.
    // The server's choice, per connection: not a message identity (a message sent again
    // after a reconnect may carry another id, and ids are reused once acknowledged).
    std::uint16_t packet_id = 0;

    [[nodiscard]] std::string_view text() const noexcept {
        return {reinterpret_cast<const char*>(payload.data()), payload.size()};
    }

    // Takes over this message's acknowledgement: the client does not send it when the
    // handler returns, and the token's accept() does (see deferred_ack). Call it in the
    // handler (an asynchronous one: before its first co_await); every handler that calls
    // it gets a token, and the acknowledgement goes when all of them have accepted.
    // Returns an empty token for a QoS 0 message (nothing to acknowledge) and when called
    // later (the acknowledgement has gone). At most options::max_pending_acks messages may
    // wait for their acknowledgement; the next one closes the connection (see options).
    [[nodiscard]] deferred_ack defer_ack() const;
};

}  // namespace tether::client
