// connect() again on a client that disconnected, against a real mosquitto: the plain
// sequence `co_await c.disconnect(); co_await c.connect();` works, whatever is still
// winding down of the stopped connection, and exactly one connect() starts the next one.
//
// Several tests call connect() at a moment when the stopped connection's last handlers have
// not run yet (right after disconnect() returns, or from a handler while its disconnect()
// is under way): the moment the client used to answer already_connected. Nothing here waits
// for time to pass; a wait is for a condition, with a generous limit.

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../support/broker.hpp"
#include "../support/coro_test.hpp"
#include "../support/loopback.hpp"
#include "tether/client/client.hpp"

namespace tether::client {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::mosquitto_broker;
using test::run_coro;

options local(const mosquitto_broker& b, std::string id) { return test::quiet_loopback(b.port(), std::move(id)); }

// The payloads a subscription received, in order.
using payloads = std::vector<std::string>;

subscription collect(const char* filter, std::shared_ptr<payloads> into) {
    return {filter, qos::at_least_once, [into](const message& m) { into->emplace_back(m.text()); }};
}

// Subscribes (wait::ack); false if refused or failed. (The subscription is built here, not
// inside the co_await expression: GCC 12.)
asio::awaitable<bool> subscribe_to(client& c, const char* filter, std::shared_ptr<payloads> into) {
    subscription s = collect(filter, std::move(into));
    const auto r = co_await c.subscribe(std::move(s));
    co_return !r.ec;
}

// Records what a spawned connect() completed with.
auto record(std::optional<std::error_code>& into) {
    return [&into](std::exception_ptr, std::error_code ec) { into = ec; };
}

TEST(ConnectAgain, RightAfterDisconnectTheSessionWorks) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "again"));
        CO_ASSERT(!(co_await c.connect()));
        auto before = std::make_shared<payloads>();  // made before the disconnect: restored
        CO_ASSERT(co_await subscribe_to(c, "again/old", before));
        for (int round = 1; round <= 3; ++round) {
            EXPECT_FALSE(co_await c.disconnect());
            EXPECT_FALSE(c.is_connected());
            const std::error_code ec = co_await c.connect();
            EXPECT_FALSE(ec) << "round " << round << ": " << ec.message();
            CO_ASSERT(!ec);
            EXPECT_TRUE(c.is_connected());
            // A new subscription too; each round's publish goes to both filters.
            auto after = std::make_shared<payloads>();
            const std::string filter = "again/new/" + std::to_string(round);
            CO_ASSERT(co_await subscribe_to(c, filter.c_str(), after));
            const std::string text = std::to_string(round);
            const std::error_code old_acked = co_await c.publish("again/old", text, qos::at_least_once, wait::ack);
            EXPECT_FALSE(old_acked) << old_acked.message();
            const std::error_code new_acked = co_await c.publish(filter, text, qos::at_least_once, wait::ack);
            EXPECT_FALSE(new_acked) << new_acked.message();
            CO_ASSERT(co_await eventually([&] { return before->size() == std::size_t(round) && after->size() == 1; }));
            EXPECT_EQ(before->back(), text);
            EXPECT_EQ(after->back(), text);
        }
        EXPECT_EQ(c.stats().connections, 4u);
        EXPECT_FALSE(co_await c.disconnect());
    });
}

// A persistent session: the server keeps it across disconnect() and connect() back to back,
// and a QoS 1 message published while the client is away comes after it is back.
TEST(ConnectAgain, APersistentSessionKeepsWhatTheBrokerQueuedMeanwhile) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o = local(broker, "keeper");
        o.clean_session = false;
        client dev(io.get_executor(), o);
        std::vector<bool> session_present;  // per connection
        dev.on_connection_event([&](const connection_event& e) {
            if (e.state == connection_state::connected) session_present.push_back(e.session_present);
        });
        CO_ASSERT(!(co_await dev.connect()));
        auto got = std::make_shared<payloads>();
        CO_ASSERT(co_await subscribe_to(dev, "kept/t", got));
        client pub(io.get_executor(), local(broker, "pub"));
        CO_ASSERT(!(co_await pub.connect()));

        EXPECT_FALSE(co_await dev.disconnect());
        const std::error_code back = co_await dev.connect();
        EXPECT_FALSE(back) << back.message();
        CO_ASSERT(!back);

        EXPECT_FALSE(co_await dev.disconnect());
        // Acknowledged: the broker has it, for a session whose client is away (or, if it has
        // not yet read the DISCONNECT, in flight to it: sent again on the next connection).
        const std::error_code published = co_await pub.publish("kept/t", "meanwhile", qos::at_least_once, wait::ack);
        CO_ASSERT(!published);
        const std::error_code again = co_await dev.connect();
        EXPECT_FALSE(again) << again.message();
        CO_ASSERT(!again);
        CO_ASSERT(co_await eventually([&] { return !got->empty(); }));
        EXPECT_EQ(*got, payloads{"meanwhile"});
        EXPECT_EQ(session_present, (std::vector<bool>{false, true, true}));
        EXPECT_FALSE(co_await dev.disconnect());
        EXPECT_FALSE(co_await pub.disconnect());
    });
}

TEST(ConnectAgain, ConnectWhileConnectedConnectingOrReconnectingIsStillAlreadyConnected) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "twice"));
        // Connecting: one of the two starts the connection (whichever runs first), the
        // other is told.
        std::optional<std::error_code> spawned;
        asio::co_spawn(io, c.connect(), record(spawned));
        const std::error_code direct = co_await c.connect();
        CO_ASSERT(co_await eventually([&] { return spawned.has_value(); }));
        const std::vector<std::error_code> both{*spawned, direct};
        const std::vector<std::error_code> one_each_way_a{std::error_code{}, make_error_code(errc::already_connected)};
        const std::vector<std::error_code> one_each_way_b{make_error_code(errc::already_connected), std::error_code{}};
        EXPECT_TRUE(both == one_each_way_a || both == one_each_way_b)
            << spawned->message() << " / " << direct.message();
        CO_ASSERT(c.is_connected());
        // Connected.
        EXPECT_EQ(co_await c.connect(), make_error_code(errc::already_connected));
        EXPECT_TRUE(c.is_connected());
        EXPECT_FALSE(co_await c.publish("twice/t", "x", qos::at_least_once, wait::ack));
        // Reconnecting, the broker gone: the client is on it by itself.
        broker.stop();
        CO_ASSERT(co_await eventually([&] { return !c.is_connected(); }));
        EXPECT_EQ(co_await c.connect(), make_error_code(errc::already_connected));
        broker.start();
        CO_ASSERT(co_await eventually([&] { return c.is_connected(); }, 20s));
        EXPECT_FALSE(co_await c.publish("twice/t", "y", qos::at_least_once, wait::ack));
        EXPECT_EQ(c.stats().connections, 2u);
        EXPECT_FALSE(co_await c.disconnect());
    });
}

// Two connect() calls after a disconnect(): exactly one starts the connection; the other
// is told already_connected at once, not after the first has finished.
TEST(ConnectAgain, OfTwoConnectsAfterADisconnectExactlyOneStartsTheConnection) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "racer"));
        CO_ASSERT(!(co_await c.connect()));
        EXPECT_FALSE(co_await c.disconnect());
        std::optional<std::error_code> spawned;
        asio::co_spawn(io, c.connect(), record(spawned));
        const std::error_code direct = co_await c.connect();
        CO_ASSERT(co_await eventually([&] { return spawned.has_value(); }));
        const std::vector<std::error_code> both{*spawned, direct};
        const std::vector<std::error_code> one_each_way_a{std::error_code{}, make_error_code(errc::already_connected)};
        const std::vector<std::error_code> one_each_way_b{make_error_code(errc::already_connected), std::error_code{}};
        EXPECT_TRUE(both == one_each_way_a || both == one_each_way_b)
            << spawned->message() << " / " << direct.message();
        EXPECT_TRUE(c.is_connected());
        EXPECT_EQ(c.stats().connections, 2u);
        EXPECT_FALSE(co_await c.publish("racer/t", "x", qos::at_least_once, wait::ack));
        EXPECT_FALSE(co_await c.disconnect());
    });
}

// A handler disconnects (a "stop" command) in a coroutine of its own, which, when that
// disconnect() has returned, starts a connect() in another: at that moment the stopped
// connection's last handlers have not run yet.
TEST(ConnectAgain, AfterADisconnectFromAHandlerAnotherCoroutineConnects) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "commanded"));
        CO_ASSERT(!(co_await c.connect()));
        std::optional<std::error_code> disconnect_result, connect_result;
        subscription stop("cmd/stop", qos::at_least_once, [&](const message&) {
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    disconnect_result = co_await c.disconnect();
                    asio::co_spawn(io, c.connect(), record(connect_result));
                },
                asio::detached);
        });
        CO_ASSERT(!(co_await c.subscribe(std::move(stop))).ec);
        auto echo = std::make_shared<payloads>();
        CO_ASSERT(co_await subscribe_to(c, "cmd/echo", echo));
        CO_ASSERT(!c.publish_now("cmd/stop", "now", qos::at_least_once));

        CO_ASSERT(co_await eventually([&] { return connect_result.has_value(); }));
        CO_ASSERT(disconnect_result.has_value());
        EXPECT_FALSE(*disconnect_result) << disconnect_result->message();
        EXPECT_FALSE(*connect_result) << connect_result->message();
        CO_ASSERT(!*connect_result);
        EXPECT_TRUE(c.is_connected());
        EXPECT_FALSE(co_await c.publish("cmd/echo", "back", qos::at_least_once, wait::ack));
        CO_ASSERT(co_await eventually([&] { return !echo->empty(); }));
        EXPECT_EQ(*echo, payloads{"back"});
        EXPECT_FALSE(co_await c.disconnect());
    });
}

// The handler starts disconnect() and, right after, a connect() in a coroutine of its own:
// the disconnect is still under way (it sends DISCONNECT only after this message's PUBACK),
// and the connect() waits for it, then connects. The server saw the PUBACK before the
// DISCONNECT: the message does not come again on the new connection of this persistent
// session.
TEST(ConnectAgain, AConnectStartedWhileAHandlersDisconnectIsUnderWayWaitsForIt) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o = local(broker, "restarter");
        o.clean_session = false;
        client c(io.get_executor(), o);
        CO_ASSERT(!(co_await c.connect()));
        std::optional<std::error_code> disconnect_result, connect_result;
        int commands = 0;
        subscription restart("cmd/restart", qos::at_least_once, [&](const message&) {
            ++commands;
            asio::co_spawn(io, c.disconnect(), record(disconnect_result));
            asio::co_spawn(io, c.connect(), record(connect_result));
        });
        CO_ASSERT(!(co_await c.subscribe(std::move(restart))).ec);
        auto echo = std::make_shared<payloads>();
        CO_ASSERT(co_await subscribe_to(c, "cmd/echo", echo));
        CO_ASSERT(!c.publish_now("cmd/restart", "now", qos::at_least_once));

        CO_ASSERT(co_await eventually([&] { return connect_result.has_value(); }));
        CO_ASSERT(disconnect_result.has_value());
        EXPECT_FALSE(*disconnect_result) << disconnect_result->message();
        EXPECT_FALSE(*connect_result) << connect_result->message();
        CO_ASSERT(!*connect_result);
        EXPECT_TRUE(c.is_connected());
        EXPECT_EQ(c.stats().connections, 2u);
        // Behind the command on the new connection: had the server kept it unacknowledged,
        // it would have come again before this.
        EXPECT_FALSE(co_await c.publish("cmd/echo", "back", qos::at_least_once, wait::ack));
        CO_ASSERT(co_await eventually([&] { return !echo->empty(); }));
        EXPECT_EQ(*echo, payloads{"back"});
        EXPECT_EQ(commands, 1);
        EXPECT_FALSE(co_await c.disconnect());
    });
}

// A stop from another coroutine while connect() is under way: that connect() reports it,
// and a connect() right after it starts afresh.
TEST(ConnectAgain, AfterADisconnectDuringConnectTheNextConnectSucceeds) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "interrupted"));
        std::optional<std::error_code> first;
        asio::co_spawn(io, c.connect(), record(first));
        // Queued after the spawned coroutine's start (or after it already ran): it is
        // connecting now, waiting for the link.
        co_await asio::post(io.get_executor(), asio::use_awaitable);
        CO_ASSERT(!first.has_value());
        EXPECT_FALSE(co_await c.disconnect());
        // At once: the stopped attempt may still be resolving or opening its link.
        const std::error_code ec = co_await c.connect();
        EXPECT_FALSE(ec) << ec.message();
        CO_ASSERT(co_await eventually([&] { return first.has_value(); }));
        EXPECT_EQ(*first, make_error_code(errc::client_stopped));
        CO_ASSERT(!ec);
        EXPECT_FALSE(co_await c.publish("interrupted/t", "x", qos::at_least_once, wait::ack));
        EXPECT_FALSE(co_await c.disconnect());
    });
}

// disconnect() while a connect() waits for the previous connection to wind down calls that
// connect() off; the next one connects.
TEST(ConnectAgain, ADisconnectWhileAConnectWaitsCallsItOff) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "changed-mind"));
        CO_ASSERT(!(co_await c.connect()));
        EXPECT_FALSE(co_await c.disconnect());
        std::optional<std::error_code> waiting;
        asio::co_spawn(io, c.connect(), record(waiting));
        co_await asio::post(io.get_executor(), asio::use_awaitable);  // it has started
        EXPECT_FALSE(co_await c.disconnect());
        CO_ASSERT(co_await eventually([&] { return waiting.has_value(); }));
        EXPECT_EQ(*waiting, make_error_code(errc::client_stopped));
        EXPECT_FALSE(c.is_connected());
        EXPECT_EQ(c.stats().connections, 1u);
        const std::error_code ec = co_await c.connect();
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_TRUE(c.is_connected());
        EXPECT_FALSE(co_await c.disconnect());
    });
}

// The client destroyed while a connect() waits for the previous connection to wind down:
// that connect() returns client_stopped and starts nothing (ASan sees any use of the
// client's memory after it is gone).
TEST(ConnectAgain, TheClientDestroyedWhileAConnectWaitsStopsIt) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        auto c = std::make_unique<client>(io.get_executor(), local(broker, "gone"));
        CO_ASSERT(!(co_await c->connect()));
        EXPECT_FALSE(co_await c->disconnect());
        std::optional<std::error_code> waiting;
        asio::co_spawn(io, c->connect(), record(waiting));
        co_await asio::post(io.get_executor(), asio::use_awaitable);  // it has started
        c.reset();
        CO_ASSERT(co_await eventually([&] { return waiting.has_value(); }));
        EXPECT_EQ(*waiting, make_error_code(errc::client_stopped));
    });
}

}  // namespace
}  // namespace tether::client
