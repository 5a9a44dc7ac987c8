// client::set_options(): new options on the same client object, as tether::device uses it
// for a new identity and after a throttle's stay-away. What goes over to the next
// connection (subscriptions, handlers) and, when the options are the same, the session
// state in memory too. Against a scripted server that records the client's packets
// (scripted_server.hpp) and against a real mosquitto.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "../support/broker.hpp"
#include "../support/coro_test.hpp"
#include "../support/loopback.hpp"
#include "scripted_server.hpp"
#include "tether/client/client.hpp"

namespace tether::client {
namespace {

using test::eventually;
using test::run_coro;
using test::scripted_server;

// A persistent session that does not reconnect by itself: a lost link stops the client.
options stopping_on_loss(std::uint16_t port) {
    options o = test::persistent_to(port, "set-options");
    o.reconnect.enabled = false;
    return o;
}

// A QoS 2 message past PUBREC whose PUBREL the link lost: the client stopped, and the same
// options set again keep the session, so the next connection sends the PUBREL
// [MQTT-4.4.0-1] and a broker that holds QoS 2 until PUBREL (method A) delivers it. A new
// engine for the same options lost the PUBREL, and with it the message.
TEST(SetOptions, TheSameOptionsKeepTheSessionSoAPendingPubrelGoesOnTheNextConnection) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        server.strict_qos2 = true;
        server.close_when = [](int n, std::uint8_t type) { return n == 1 && type == test::pubrel; };
        const options opts = stopping_on_loss(server.port());
        client c(io.get_executor(), opts);
        CO_ASSERT(!(co_await c.connect()));
        CO_ASSERT(!c.publish_now("q2", "held", qos::exactly_once));
        CO_ASSERT(co_await eventually([&] { return !c.is_connected(); }));
        EXPECT_TRUE(server.delivered.empty());  // the PUBREL never reached the server

        EXPECT_FALSE(c.set_options(opts));
        CO_ASSERT(!(co_await c.connect()));
        CO_ASSERT(!(co_await c.ping()));
        CO_ASSERT(server.delivered.size() == 1);
        EXPECT_EQ(server.delivered[0].topic, "q2");
        EXPECT_EQ(server.delivered[0].payload, "held");
        EXPECT_EQ(server.delivered[0].connection, 2);
        EXPECT_EQ(c.in_flight(), 0u);
        (void)co_await c.disconnect();
    });
}

// Other options: a new identity (here a new client id) connects, and the subscriptions made
// before go with it, sent on the new connection, their handlers called.
TEST(SetOptions, ANewIdentityConnectsWithTheSubscriptionsAndHandlersMadeBefore) {
    test::mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), test::quiet_loopback(broker.port(), "before"));
        CO_ASSERT(!(co_await c.connect()));
        auto got = std::make_shared<std::vector<std::string>>();
        subscription s("so/+", qos::at_least_once, [got](const message& m) { got->emplace_back(m.text()); });
        CO_ASSERT(!(co_await c.subscribe(std::move(s))).ec);
        CO_ASSERT(!(co_await c.disconnect()));

        EXPECT_FALSE(c.set_options(test::quiet_loopback(broker.port(), "after")));
        CO_ASSERT(!(co_await c.connect()));
        client other(io.get_executor(), test::quiet_loopback(broker.port(), "other"));
        CO_ASSERT(!(co_await other.connect()));
        CO_ASSERT(!(co_await other.publish("so/1", "one", qos::at_least_once)));
        CO_ASSERT(co_await eventually([&] { return got->size() == 1; }));
        EXPECT_EQ(got->front(), "one");
        (void)co_await other.disconnect();
        (void)co_await c.disconnect();
    });
}

// While connected, set_options() is refused, the same options included: it never changes a
// live connection.
TEST(SetOptions, WhileConnectedEvenTheSameOptionsAreAlreadyConnected) {
    test::mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        const options opts = test::quiet_loopback(broker.port(), "connected");
        client c(io.get_executor(), opts);
        CO_ASSERT(!(co_await c.connect()));
        EXPECT_EQ(c.set_options(opts), make_error_code(errc::already_connected));
        options other = opts;
        other.client_id = "elsewhere";
        EXPECT_EQ(c.set_options(other), make_error_code(errc::already_connected));
        EXPECT_TRUE(c.is_connected());
        (void)co_await c.disconnect();
    });
}

}  // namespace
}  // namespace tether::client
