// Stopping the client where a stop meets other work: disconnect() from the client's own
// connection events, and two disconnect() calls at once. Each scenario comes from the
// outside review of session 8's connect-again work; each failed on the code before its
// fix (a connect() that waited for ever, a backoff of up to an hour, a use-after-free that
// ASan reports). Against a scripted server that records the client's packets.

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <optional>

#include "../support/coro_test.hpp"
#include "scripted_server.hpp"
#include "tether/client/client.hpp"

namespace tether::client {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::run_coro;
using test::scripted_server;

// On the first event in `state`, disconnect() from the callback (spawned: it runs at once,
// inside the callback), recording what it returned.
void disconnect_on(client& c, asio::io_context& io, connection_state state, std::optional<std::error_code>& out) {
    c.on_connection_event([&c, &io, state, &out, asked = false](const connection_event& e) mutable {
        if (e.state != state || asked) return;
        asked = true;
        asio::co_spawn(io, c.disconnect(), [&out](std::exception_ptr, std::error_code ec) { out = ec; });
    });
}

// A lost link, and disconnect() from its `disconnected` event: the stop holds (the run set
// itself reconnecting over it, and reconnected), and the next connect() connects (it waited
// for the end of a run that never came).
TEST(StopRace, ADisconnectFromTheDisconnectedEventHoldsAndConnectWorksAfter) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        client c(io.get_executor(), test::persistent_to(server.port(), "stop-race"));  // reconnects in 10-20 ms
        std::optional<std::error_code> stopped;
        disconnect_on(c, io, connection_state::disconnected, stopped);
        CO_ASSERT(!(co_await c.connect()));
        server.close();
        CO_ASSERT(co_await eventually([&] { return stopped.has_value(); }));
        CO_ASSERT(!(co_await c.connect()));
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_EQ(server.connections, 2);  // this connect()'s: none of the client's own in between
        (void)co_await c.disconnect();
    }, 30s);
}

// disconnect() from the `reconnecting` event, which comes before the backoff: the backoff
// ends at once, and connect() connects now rather than after it (here up to an hour).
TEST(StopRace, ADisconnectFromTheReconnectingEventEndsTheBackoff) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        options o = test::persistent_to(server.port(), "stop-race");
        o.reconnect.initial_delay = 1h;
        o.reconnect.max_delay = 1h;
        client c(io.get_executor(), o);
        std::optional<std::error_code> stopped;
        disconnect_on(c, io, connection_state::reconnecting, stopped);
        CO_ASSERT(!(co_await c.connect()));
        server.close();
        CO_ASSERT(co_await eventually([&] { return stopped.has_value(); }));
        CO_ASSERT(!(co_await c.connect()));
        EXPECT_EQ(server.connections, 2);
        (void)co_await c.disconnect();
    }, 30s);
}

// Two disconnect() calls while a message waits for its PUBACK: both wait, both return when
// it is acknowledged, and one DISCONNECT goes. (The second call replaced the signal the
// first was waiting on, and freed it under its timer.)
TEST(StopRace, TwoDisconnectsAtOnceBothEndWhenTheMessageIsAcknowledged) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        server.ack_publishes_at_ping = true;
        client c(io.get_executor(), test::persistent_to(server.port(), "stop-race"));
        CO_ASSERT(!(co_await c.connect()));
        CO_ASSERT(!c.publish_now("t", "m", qos::at_least_once));
        CO_ASSERT(co_await eventually([&] { return server.ids(1, test::publish_type).size() == 1; }));
        std::optional<std::error_code> first, second;
        asio::co_spawn(io, c.disconnect(30s), [&first](std::exception_ptr, std::error_code ec) { first = ec; });
        asio::co_spawn(io, c.disconnect(30s), [&second](std::exception_ptr, std::error_code ec) { second = ec; });
        EXPECT_FALSE(first.has_value());  // both wait for the PUBACK
        EXPECT_FALSE(second.has_value());
        (void)co_await c.ping();  // the server answers the PUBLISH at this PINGREQ
        CO_ASSERT(co_await eventually([&] { return first.has_value() && second.has_value(); }));
        EXPECT_FALSE(*first) << first->message();
        EXPECT_FALSE(*second) << second->message();
        EXPECT_FALSE(c.is_connected());
        int disconnects = 0;
        for (const auto& p : server.seen) disconnects += p.type == 14 ? 1 : 0;
        EXPECT_EQ(disconnects, 1);
    }, 30s);
}

}  // namespace
}  // namespace tether::client
