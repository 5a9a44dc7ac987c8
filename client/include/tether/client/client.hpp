#pragma once
// The tether MQTT 3.1.1 client for Linux: standalone Asio, C++20 coroutines, OpenSSL.
//
// All of a client's work happens on the executor it was made with, which must not run
// handlers on several threads at once (an io_context run by one thread, or a strand).
// Any number of coroutines may publish, subscribe and wait at once.
//
//   asio::io_context io;
//   tether::client::client c(io.get_executor(), {.host = "localhost", .client_id = "dev1"});
//   asio::co_spawn(io, [&]() -> asio::awaitable<void> {
//       if (auto ec = co_await c.connect()) { std::cerr << ec.message() << "\n"; co_return; }
//       co_await c.subscribe({"myDevice/change", tether::client::qos::at_least_once,
//                             [](const tether::client::message& m) { std::cout << m.text() << "\n"; }});
//       co_await c.publish("myDevice/init", "Initialized", tether::client::qos::at_least_once,
//                          tether::client::wait::none);
//   }, asio::detached);
//   io.run();

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <concepts>
#include <type_traits>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "tether/client/error.hpp"
#include "tether/client/message.hpp"
#include "tether/client/options.hpp"

namespace tether::client {

namespace detail {
class engine;
}

// A QoS 1/2 message is acknowledged when its handlers have returned (an asynchronous one:
// reached its first co_await), unless a handler takes the acknowledgement over with
// message::defer_ack() and accepts it when the work is done (message.hpp).
//
// A handler that runs to completion in the call; it sees views into the receive buffer.
using message_handler = std::function<void(const message&)>;
// A handler that may co_await (publish, request, timers) without holding up the client:
// it gets its own copy of the message, valid until its coroutine ends.
using async_message_handler = std::function<asio::awaitable<void>(const message&)>;

// A filter, the largest QoS wanted, and the handler for what it matches. The handler is
// either kind: one returning asio::awaitable<void> runs as its own coroutine.
//
//   subscription{"myDevice/change", qos::at_least_once, [](const message& m) { ... }}
//   subscription{"cmd/+", qos::at_least_once, [&](const message& m) -> asio::awaitable<void> { ... }}
//
// Not an aggregate on purpose: GCC 12 destroys a braced aggregate temporary twice when it
// appears inside a co_await expression, and `co_await c.subscribe({...})` is the natural
// way to write a subscription.
struct subscription {
    subscription() = default;
    template <class Handler = message_handler>
        requires std::invocable<Handler&, const message&>
    subscription(std::string filter_, core::qos max_qos_ = core::qos::at_most_once, Handler&& h = {})
        : filter(std::move(filter_)), max_qos(max_qos_) {
        if constexpr (std::is_same_v<std::invoke_result_t<Handler&, const message&>, asio::awaitable<void>>) {
            async_handler = std::forward<Handler>(h);
        } else {
            handler = std::forward<Handler>(h);
        }
    }

    std::string filter;
    core::qos max_qos = core::qos::at_most_once;
    message_handler handler;              // at most one of the two is set;
    async_message_handler async_handler;  // neither: nothing is delivered
    // Send this filter to the server even when a filter already held there covers it (a
    // master subscription, which otherwise serves it locally without a SUBSCRIBE). The
    // server then also sends the filter's retained messages, once per filter, as it does
    // for mosquitto_sub; a live message still reaches this subscription's handler once.
    bool always_at_server = false;
};

struct subscribe_result {
    std::error_code ec{};  // the first failure, or subscription_refused if any filter was refused
    // With wait::ack: per filter, in order, the granted QoS 0/1/2 or 0x80 (refused).
    std::vector<std::uint8_t> granted{};
};

struct request_result {
    std::error_code ec{};  // timeout, not_connected, ...
    std::string payload{};
};

// Counters since the client was made, for metrics and for seeing the design at work
// (writes far fewer than packets: coalescing).
struct client_stats {
    std::uint64_t connections = 0;         // CONNACKs accepted
    std::uint64_t messages_published = 0;  // PUBLISHes encoded (first sends, not resends)
    std::uint64_t messages_received = 0;   // application messages delivered to handlers
    std::uint64_t writes = 0;              // socket writes
    std::uint64_t bytes_written = 0;
    std::uint64_t reads = 0;               // socket reads
    std::uint64_t bytes_read = 0;
    // Durable outbox writes that failed after a message was accepted (its packet id, PUBREC
    // or removal; a compaction): never a loss, at worst a duplicate after a restart.
    std::uint64_t journal_errors = 0;
    // fdatasync calls of the durable outbox at durability::power_loss (one per batch of
    // concurrent publish() calls, one per publish_now()).
    std::uint64_t journal_syncs = 0;
    // Publishes failed with errc::publish_refused: the server closed the link each time it
    // read them (MQTT 3.1.1 has no other way to refuse). Counted also for wait::none.
    std::uint64_t messages_refused = 0;
};

enum class connection_state { connected, disconnected, reconnecting };

struct connection_event {
    connection_state state;
    std::error_code reason;  // why it disconnected, or why the last attempt failed
    bool session_present = false;
    unsigned attempt = 0;    // reconnecting: the attempt about to be made, from 1
    // reconnecting: the backoff drawn before that attempt (full jitter, see reconnect_policy)
    std::chrono::milliseconds retry_in{0};
    endpoint broker{};       // connected, reconnecting: the broker of that connection or attempt
};

class client {
public:
    client(asio::any_io_executor executor, options opts);
    ~client();  // stops at once: closes the link, fails what is waiting with client_stopped
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Connects and waits for CONNACK. After it succeeds the client keeps the connection up
    // by itself (reconnect policy) until disconnect().
    //
    // Again after the client stopped, for whatever reason (disconnect(), here or from another
    // coroutine or a handler; a refusal that ended reconnecting; a failed connect()), it
    // connects anew: `co_await c.disconnect(); co_await c.connect();` works as written. The
    // stopped connection may still be winding down (its link's last handlers, or a
    // disconnect() still flushing, at most its `limit`): connect() then waits for that,
    // with no time limit of its own, and goes on. Subscriptions are made again; with a
    // persistent session the server's stored messages follow. While one connect() waits so,
    // another connect() returns already_connected at once: exactly one starts the new
    // connection. disconnect() while it waits, or the client's destruction, calls it off:
    // it returns client_stopped when the winding down it waited for has ended.
    //
    // Errors: errc::unacceptable_protocol_version, identifier_rejected, server_unavailable,
    // bad_user_name_or_password, not_authorized (CONNACK refusals); already_connected (connected,
    // connecting or reconnecting with no disconnect() called, or another connect() waits as
    // above); client_stopped (disconnect() or the client's destruction before CONNACK, or
    // while it waited); invalid_argument (bad client id, will or credentials); timeout
    // (options::connect_timeout); resolver, socket and TLS errors of the first attempt (the
    // first attempt is not retried: an unreachable broker is reported at once);
    // std::errc::operation_canceled when the awaiting coroutine is cancelled. With
    // options::persistence also the journal's (docs/PERSISTENCE.md): another client id's
    // directory, in use, newer format, damaged header (category "tether.journal"), EACCES,
    // EROFS, ENOSPC; invalid_argument without a client id.
    asio::awaitable<std::error_code> connect();

    // Publishes one message. Waits as `how` says (see wait). QoS 1/2 messages survive lost
    // connections and are sent again until acknowledged. Errors: invalid_argument (topic
    // [MQTT-4.7.3], QoS), message_too_large, not_connected (never connected, or stopped),
    // queue_full / message_dropped (offline queue), connection_lost (QoS 0 with wait::sent
    // whose bytes were not written), client_stopped; with options::persistence, a QoS 1/2
    // message that cannot be journaled is refused with the disk's error (ENOSPC, EFBIG,
    // EIO), and at durability::power_loss a failed fdatasync is reported too.
    asio::awaitable<std::error_code> publish(std::string_view topic, std::span<const std::uint8_t> payload,
                                             core::qos q = core::qos::at_most_once, wait how = wait::ack,
                                             bool retain = false);
    asio::awaitable<std::error_code> publish(std::string_view topic, std::string_view payload,
                                             core::qos q = core::qos::at_most_once, wait how = wait::ack,
                                             bool retain = false);

    // publish() with wait::none, as a plain call: no coroutine, nothing to await, the
    // cheapest way to send (about 4x fewer instructions than co_await publish(..., wait::none)).
    // The message is encoded now or queued; QoS 1/2 are retransmitted until acknowledged.
    // Errors, at once: the same as publish() (never connection_lost or client_stopped).
    std::error_code publish_now(std::string_view topic, std::span<const std::uint8_t> payload,
                                core::qos q = core::qos::at_most_once, bool retain = false);
    std::error_code publish_now(std::string_view topic, std::string_view payload,
                                core::qos q = core::qos::at_most_once, bool retain = false);

    // Waits until no message waits in the offline queue: each has gone into the write
    // buffer or the window. A producer that publishes faster than the link takes messages
    // (publish_now() in a loop) awaits this when queued() grows, and so keeps pace with the
    // link instead of copying its backlog into the queue. Completes at once when the queue
    // is empty. Errors: client_stopped, and the error that stopped reconnecting.
    asio::awaitable<std::error_code> drain();

    // Subscribes. A filter under one the client already holds at the server with enough
    // QoS (e.g. "a/b/c" under "a/#") is served locally with no SUBSCRIBE packet. The
    // subscriptions are restored after a reconnect. May be called before connect(): the
    // handlers are then in place for what a persistent session delivers at once, and the
    // SUBSCRIBE goes out on connecting (wait::ack waits for it). Errors: invalid_argument
    // (filter, QoS), subscription_refused (any 0x80), not_connected (disconnecting),
    // client_stopped.
    asio::awaitable<subscribe_result> subscribe(std::vector<subscription> subscriptions, wait how = wait::ack);
    // One subscription. (GCC 12 cannot compile a braced list of several subscriptions
    // inside a co_await expression; build the vector first, or use this overload.)
    asio::awaitable<subscribe_result> subscribe(subscription one, wait how = wait::ack);

    // Removes the handlers of these filters and, for those held at the server, sends
    // UNSUBSCRIBE. Errors: invalid_argument, not_connected, connection_lost, client_stopped.
    asio::awaitable<std::error_code> unsubscribe(std::vector<std::string> filters, wait how = wait::ack);
    asio::awaitable<std::error_code> unsubscribe(std::string filter, wait how = wait::ack);

    // Sends PINGREQ and waits for PINGRESP. Errors: not_connected, connection_lost, client_stopped.
    asio::awaitable<std::error_code> ping();

    // Publishes `body` on `topic/<seq>` and waits for the payload that arrives on
    // `reply_topic/<seq>`, the same sequence number. Replies for other sequence numbers go
    // to their own waiters. Errors: timeout, and those of subscribe and publish.
    asio::awaitable<request_result> request(std::string_view topic, std::string_view body, std::string_view reply_topic,
                                            std::chrono::milliseconds timeout, core::qos q = core::qos::at_least_once);

    // Graceful: waits (at most `limit`) until queued and in-flight messages are
    // acknowledged, sends DISCONNECT (so the server discards the will), closes the link and
    // stops reconnecting. Errors: timeout (unacknowledged messages then fail with
    // client_stopped and are never sent again, except QoS 2 ones past PUBREC: the server
    // has them, so they are reported delivered and their PUBREL goes on the next
    // connection [MQTT-4.4.0-1]), not_connected. Started from a message handler, it sends
    // DISCONNECT after that message's PUBACK or PUBREC (unless the handler deferred it: a
    // deferred acknowledgement not yet accepted is not waited for, and the server sends that
    // message again on a persistent session's next connection). connect() may follow at
    // once, with no wait in between (see connect()). Called while a connect() waits for the
    // previous connection to wind down, it calls that connect() off (it returns
    // client_stopped) and returns no error. Called while another disconnect() is under way,
    // it waits for that one (within that one's limit) and returns what it returns. Called
    // from an on_connection_event() callback (a lost link's `disconnected`, `reconnecting`),
    // the stop holds: no reconnection follows, and the backoff ends at once.
    asio::awaitable<std::error_code> disconnect(std::chrono::milliseconds limit = std::chrono::seconds(5));

    [[nodiscard]] bool is_connected() const noexcept;

    // Called on every change of connection state, on the client's executor.
    void on_connection_event(std::function<void(const connection_event&)> callback);

    // Takes new options while the client is not connected: before connect(), after
    // disconnect(), or after reconnecting stopped on an error retrying cannot fix. The next
    // connect() uses them. For a new identity (client id, certificate and key, broker,
    // persistence directory) without a new client object, so that references to this one
    // stay valid (tether::device re-provisions this way).
    //   Kept: this object, the subscriptions made with subscribe() and their handlers (sent
    //   on the next connect(), as after a reconnect), the on_connection_event() callback, and
    //   the stats() counters.
    //   Options equal to the current ones (operator==) change nothing: the session state
    //   in memory stays too, as for connect() again without set_options().
    //   Not kept, when the options differ: the old options' session state in memory. Operations still waiting fail
    //   with client_stopped (a subscribe(wait::ack) made before connect()); QoS 2 messages
    //   past PUBREC, reported delivered, get their PUBREL only from the journal of the old
    //   options::persistence directory, on a later connect() with it; request()'s reply
    //   subscriptions are made again by the next request().
    // Not from inside a message handler (the client is connected then). Errors:
    // already_connected (connected, connecting, reconnecting, or a disconnect() still
    // flushing: wait for it). The options themselves are checked by connect().
    //
    //   co_await c.disconnect();
    //   auto next = c_options;  next.client_id = "dev-8";  next.tls.cert_file = "dev-8.crt";
    //   if (auto ec = c.set_options(next)) { ... }
    //   co_await c.connect();
    [[nodiscard]] std::error_code set_options(options opts);

    // Messages waiting in the offline queue, and QoS 1/2 messages sent and not yet acknowledged.
    [[nodiscard]] std::size_t queued() const noexcept;
    [[nodiscard]] client_stats stats() const noexcept;
    [[nodiscard]] std::size_t in_flight() const noexcept;

private:
    std::shared_ptr<detail::engine> engine_;
};

}  // namespace tether::client
