// Scenarios from the outside review of the engine (issue 8, (e)-(j)), each against a
// scripted server that records the client's packets in order (scripted_server.hpp), so
// that what the server ends up holding is read off the bytes. Each failed on the code
// before its fix.

#include <gtest/gtest.h>

#include <unistd.h>

#include <asio/detached.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "../support/coro_test.hpp"
#include "../support/loopback.hpp"
#include "scripted_server.hpp"
#include "tether/client/client.hpp"

namespace tether::client {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::run_coro;
using test::scripted_server;

options persistent(std::uint16_t port) { return test::persistent_to(port, "reviewed"); }

// The SUBSCRIBE and UNSUBSCRIBE packets of connection `n`, as "S filter qos"/"U filter".
std::vector<std::string> subscription_packets(const scripted_server& s, int n) {
    std::vector<std::string> out;
    for (const auto& p : s.seen) {
        if (p.connection != n || (p.type != test::subscribe_type && p.type != test::unsubscribe_type)) continue;
        for (const auto& f : p.filters) out.push_back((p.type == test::subscribe_type ? "S " : "U ") + f);
    }
    return out;
}

asio::awaitable<void> subscribe_into(client* c, std::string filter, qos q, wait how, std::optional<subscribe_result>* out) {
    subscription s(std::move(filter), q);
    *out = co_await c->subscribe(std::move(s), how);
}

asio::awaitable<void> publish_into(client* c, qos q, std::optional<std::error_code>* out) {
    *out = co_await c->publish("t", "m", q, wait::ack);
}

// (g) dispatch went index by index: a handler that unsubscribed its own filter moved the
// next subscription into its index, and that one missed the message.
TEST(Review, AHandlerThatUnsubscribesDuringDispatchDoesNotMakeTheNextOneMissTheMessage) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        client c(io.get_executor(), persistent(server.port()));
        CO_ASSERT(!(co_await c.connect()));
        std::vector<std::string> second;
        int first = 0;
        subscription one("x/+", qos::at_most_once, [&](const message&) {
            ++first;
            asio::co_spawn(io, c.unsubscribe("x/+", wait::none), asio::detached);
        });
        subscription two("+/y", qos::at_most_once, [&](const message& m) { second.emplace_back(m.topic); });
        CO_ASSERT(!(co_await c.subscribe(std::move(one))).ec);
        CO_ASSERT(!(co_await c.subscribe(std::move(two))).ec);
        server.publish("x/y", "m", 0, 0);
        server.publish("z/y", "m", 0, 0);  // after it: when this has come, so has x/y
        CO_ASSERT(co_await eventually([&] { return !second.empty() && second.back() == "z/y"; }));
        EXPECT_EQ(first, 1);
        EXPECT_EQ(second, (std::vector<std::string>{"x/y", "z/y"}));
    });
}

// (f) SUBACKs were matched to filters by state: after an upgrade sent while the first
// SUBSCRIBE was in flight, the first SUBACK settled both and the second was ignored, so
// the upgrade's caller heard the old grant.
TEST(Review, AnUpgradeInFlightIsSettledByItsOwnSuback) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        server.hold_subacks = true;
        client c(io.get_executor(), persistent(server.port()));
        CO_ASSERT(!(co_await c.connect()));
        std::optional<subscribe_result> low, high;
        asio::co_spawn(io, subscribe_into(&c, "u", qos::at_least_once, wait::ack, &low), asio::detached);
        asio::co_spawn(io, subscribe_into(&c, "u", qos::exactly_once, wait::ack, &high), asio::detached);
        CO_ASSERT(!(co_await c.ping()));
        const auto ids = server.ids(1, test::subscribe_type);
        CO_ASSERT(ids.size() == 2);
        EXPECT_EQ(subscription_packets(server, 1), (std::vector<std::string>{"S u", "S u"}));
        server.send_suback(ids[0]);  // grants 1
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_FALSE(high.has_value()) << "the first SUBACK answered the upgrade";
        server.send_suback(ids[1]);  // grants 2
        CO_ASSERT(co_await eventually([&] { return low.has_value() && high.has_value(); }));
        EXPECT_FALSE(high->ec);
        EXPECT_EQ(high->granted, (std::vector<std::uint8_t>{2}));
        EXPECT_EQ(low->granted, (std::vector<std::uint8_t>{1}));
    });
}

// (e) At CONNACK, new SUBSCRIBE/UNSUBSCRIBE packets went before the session's resent
// SUBSCRIBE: an UNSUBSCRIBE made offline for a filter whose SUBSCRIBE was in flight then
// came first, and the resent SUBSCRIBE left the filter subscribed.
TEST(Review, AnOfflineUnsubscribeGoesAfterTheResentSubscribeOfTheSameFilter) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        server.hold_subacks = true;  // on the first connection: the SUBSCRIBE stays in flight
        client c(io.get_executor(), persistent(server.port()));
        bool unsubscribed = false;
        c.on_connection_event([&](const connection_event& e) {
            if (e.state != connection_state::disconnected || unsubscribed) return;
            unsubscribed = true;  // offline, for certain: from the disconnect event itself
            asio::co_spawn(io, c.unsubscribe("v", wait::none), asio::detached);
        });
        CO_ASSERT(!(co_await c.connect()));
        std::optional<subscribe_result> r;
        asio::co_spawn(io, subscribe_into(&c, "v", qos::at_least_once, wait::none, &r), asio::detached);
        CO_ASSERT(!(co_await c.ping()));
        server.hold_subacks = false;
        server.close();
        CO_ASSERT(co_await eventually([&] { return server.connections == 2 && c.is_connected(); }));
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_TRUE(unsubscribed);
        EXPECT_EQ(subscription_packets(server, 2), (std::vector<std::string>{"S v", "U v"}));
    });
}

// (e) The same for an upgrade made offline: it must follow the resent lower SUBSCRIBE, and
// its SUBACK is the one that counts.
TEST(Review, AnOfflineUpgradeGoesAfterTheResentLowerSubscribe) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        server.hold_subacks = true;
        client c(io.get_executor(), persistent(server.port()));
        std::optional<subscribe_result> low, high;
        bool upgraded = false;
        c.on_connection_event([&](const connection_event& e) {
            if (e.state != connection_state::disconnected || upgraded) return;
            upgraded = true;
            asio::co_spawn(io, subscribe_into(&c, "w", qos::exactly_once, wait::ack, &high), asio::detached);
        });
        CO_ASSERT(!(co_await c.connect()));
        asio::co_spawn(io, subscribe_into(&c, "w", qos::at_least_once, wait::none, &low), asio::detached);
        CO_ASSERT(!(co_await c.ping()));
        server.hold_subacks = false;
        server.close();
        CO_ASSERT(co_await eventually([&] { return high.has_value(); }));
        EXPECT_TRUE(upgraded);
        EXPECT_EQ(server.connections, 2);
        // The resent SUBSCRIBE carries the QoS it was sent with; what matters is the order.
        EXPECT_EQ(subscription_packets(server, 2), (std::vector<std::string>{"S w", "S w"}));
        std::vector<std::uint16_t> ids = server.ids(2, test::subscribe_type);
        CO_ASSERT(ids.size() == 2);
        EXPECT_EQ(ids[0], server.ids(1, test::subscribe_type).at(0));  // the resend first
        EXPECT_FALSE(high->ec);
        EXPECT_EQ(high->granted, (std::vector<std::uint8_t>{2}));
    });
}

// (i) abandon_outbound() dropped QoS 2 messages past PUBREC: the PUBREL was never sent
// [MQTT-4.4.0-1], the broker kept the id for ever (and mosquitto delivers a QoS 2 message
// only at PUBREL), and the publisher was told the message failed.
//
// The scenario: a QoS 2 message past PUBREC when the client gives up (PUBCOMP never
// comes on the first connection), then connect() again. `journal`: with the durable
// outbox in that directory, which also holds the message.
void past_pubrec_at_a_stop(const std::string& journal) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        server.pubcomp_from = 2;  // the first connection never answers PUBREL
        options o = persistent(server.port());
        o.persistence.directory = journal;
        client c(io.get_executor(), o);
        CO_ASSERT(!(co_await c.connect()));
        std::optional<std::error_code> outcome;
        asio::co_spawn(io, publish_into(&c, qos::exactly_once, &outcome), asio::detached);
        CO_ASSERT(co_await eventually([&] { return server.ids(1, test::pubrel).size() == 1; }));
        const std::uint16_t id = server.ids(1, test::pubrel)[0];
        // PUBCOMP never comes, so this always runs out of time.
        EXPECT_EQ(co_await c.disconnect(100ms), make_error_code(errc::timeout));
        CO_ASSERT(co_await eventually([&] { return outcome.has_value(); }));
        EXPECT_FALSE(*outcome) << "reported " << outcome->message() << ", but the server has it";
        const std::error_code again = co_await c.connect();
        EXPECT_FALSE(again) << again.message();
        CO_ASSERT(!again);
        CO_ASSERT(co_await eventually([&] { return c.in_flight() == 0; }));
        CO_ASSERT(!(co_await c.ping()));  // anything else connection 2 carried came before
        EXPECT_EQ(server.ids(2, test::pubrel), (std::vector<std::uint16_t>{id}));
        EXPECT_TRUE(server.ids(2, test::publish_type).empty());
        EXPECT_FALSE(co_await c.disconnect(5s));
    });
}

TEST(Review, AMessagePastPubrecWhenTheClientGivesUpIsDeliveredAndItsPubrelGoesOn) { past_pubrec_at_a_stop(""); }

// With the durable outbox the next connect() finds the message both in the engine (kept at
// the stop) and in the journal: its PUBREL goes, and it is not put back a second time as a
// PUBLISH, which the server would deliver twice.
TEST(Review, WithPersistenceAMessagePastPubrecIsNotPublishedAgainAtTheNextConnect) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("tether-review-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    past_pubrec_at_a_stop(dir.string());
    std::filesystem::remove_all(dir);
}

// (h) The probe counted a strike for any close while it was in flight, also when other
// packets went with it: here the server closes the link over the re-sent SUBSCRIBE, twice,
// before it acknowledges the probe, and the message it had accepted failed as refused. The
// probe now goes alone, the SUBSCRIBE after its acknowledgement.
TEST(Review, AProbeStrikesOnlyWhenItWentAlone) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        server.close_when = [](int n, std::uint8_t type) {
            return (n == 1 && type == test::publish_type) || ((n == 2 || n == 3) && type == test::subscribe_type);
        };
        client c(io.get_executor(), persistent(server.port()));
        CO_ASSERT(!(co_await c.connect()));
        subscription s("s", qos::at_least_once);
        CO_ASSERT(!(co_await c.subscribe(std::move(s))).ec);
        server.ack_publishes_at_ping = true;  // the probe's PUBACK waits for a PINGREQ
        std::optional<std::error_code> outcome;
        asio::co_spawn(io, publish_into(&c, qos::at_least_once, &outcome), asio::detached);
        CO_ASSERT(co_await eventually([&] { return server.ids(2, test::publish_type).size() == 1; }));
        (void)co_await c.ping();  // releases the PUBACK, if the link is still up
        CO_ASSERT(co_await eventually([&] { return outcome.has_value(); }));
        EXPECT_FALSE(*outcome) << outcome->message();
        CO_ASSERT(co_await eventually([&] { return server.connections >= 4 && c.is_connected(); }));
        // On the second connection the probe went alone, between its two PINGREQs (the
        // second releases its PUBACK here); the SUBSCRIBE after that PUBACK. (The test's own
        // PINGREQ may come before or after the SUBSCRIBE: left out.)
        std::vector<std::uint8_t> order;
        for (const auto& p : server.seen) {
            if (p.connection == 2 && p.type != 1) order.push_back(p.type);
        }
        CO_ASSERT(order.size() >= 4);
        EXPECT_EQ(std::vector<std::uint8_t>(order.begin(), order.begin() + 3),
                  (std::vector<std::uint8_t>{12, test::publish_type, 12}));
        std::erase(order, std::uint8_t{12});
        EXPECT_EQ(order, (std::vector<std::uint8_t>{test::publish_type, test::subscribe_type}));
    });
}

// (j) While probing, the other resends wait until the probe is acknowledged, then go in
// their order [MQTT-4.6.0-1].
TEST(Review, WhileProbingTheOtherResendsWaitForTheProbesAcknowledgement) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        server.ack_publishes_at_ping = true;
        client c(io.get_executor(), persistent(server.port()));
        CO_ASSERT(!(co_await c.connect()));
        for (int i = 0; i < 3; ++i) CO_ASSERT(!c.publish_now("t", "m", qos::at_least_once));
        CO_ASSERT(co_await eventually([&] { return server.ids(1, test::publish_type).size() == 3; }));
        const auto ids = server.ids(1, test::publish_type);
        server.close();  // the server closed with three unacknowledged: the next connection probes
        CO_ASSERT(co_await eventually([&] { return server.ids(2, test::publish_type).size() == 1; }));
        CO_ASSERT(!(co_await c.ping()));  // the probe's PUBACK comes before the PINGRESP
        CO_ASSERT(co_await eventually([&] { return server.ids(2, test::publish_type).size() == 3; }));
        CO_ASSERT(!(co_await c.ping()));
        CO_ASSERT(co_await eventually([&] { return c.in_flight() == 0; }));
        std::vector<std::uint16_t> order;  // PUBLISH ids and 0 for PINGREQ, on connection 2
        for (const auto& p : server.seen) {
            if (p.connection == 2 && (p.type == test::publish_type || p.type == 12)) order.push_back(p.id);
        }
        // The probe between its two PINGREQs (the second releases its PUBACK here), then the
        // other two in order; the test's PINGREQs fall where they may.
        CO_ASSERT(order.size() >= 5);
        EXPECT_EQ(std::vector<std::uint16_t>(order.begin(), order.begin() + 3), (std::vector<std::uint16_t>{0, ids[0], 0}));
        std::erase(order, std::uint16_t{0});
        EXPECT_EQ(order, (std::vector<std::uint16_t>{ids[0], ids[1], ids[2]}));
    });
}

// (j) A master the server refuses serves nothing: a filter it seemed to cover while its
// SUBACK was pending gets a SUBSCRIBE of its own when the refusal comes.
TEST(Review, AFilterUnderARefusedMasterGetsItsOwnSubscribe) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        server.hold_subacks = true;
        server.refuse = {"a/#"};
        client c(io.get_executor(), persistent(server.port()));
        CO_ASSERT(!(co_await c.connect()));
        std::optional<subscribe_result> master, covered;
        asio::co_spawn(io, subscribe_into(&c, "a/#", qos::at_least_once, wait::ack, &master), asio::detached);
        asio::co_spawn(io, subscribe_into(&c, "a/b", qos::at_least_once, wait::ack, &covered), asio::detached);
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_EQ(subscription_packets(server, 1), (std::vector<std::string>{"S a/#"}));
        server.send_suback(server.ids(1, test::subscribe_type).at(0));
        CO_ASSERT(co_await eventually([&] { return master.has_value(); }));
        EXPECT_EQ(master->ec, make_error_code(errc::subscription_refused));
        CO_ASSERT(co_await eventually([&] { return subscription_packets(server, 1).size() == 2; }));
        EXPECT_EQ(subscription_packets(server, 1), (std::vector<std::string>{"S a/#", "S a/b"}));
        // The covered filter's answer is the SUBACK of its own SUBSCRIBE, still held: before
        // it, subscribe() returned at the master's SUBACK, reporting a grant the server had
        // not made yet (and this test failed now and then, when it checked the server first).
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_FALSE(covered.has_value());
        server.send_suback(server.ids(1, test::subscribe_type).at(1));
        CO_ASSERT(co_await eventually([&] { return covered.has_value(); }));
        EXPECT_FALSE(covered->ec) << covered->ec.message();
        EXPECT_EQ(covered->granted, (std::vector<std::uint8_t>{1}));
    });
}

// (j), fixed in 62abc1d without a test: a filter still to be sent when the client stopped
// (here the first connect failed) gets a fresh wait for its SUBACK, not the old error.
TEST(Review, ASubscribeAfterAStopWaitsForTheNextConnectionsSuback) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        server.close_when = [](int n, std::uint8_t type) { return n == 1 && type == 1; };  // CONNECT
        client c(io.get_executor(), persistent(server.port()));
        std::optional<subscribe_result> early, later;
        asio::co_spawn(io, subscribe_into(&c, "s", qos::at_least_once, wait::none, &early), asio::detached);
        CO_ASSERT(co_await c.connect());  // refused by a close: what waited is failed
        asio::co_spawn(io, subscribe_into(&c, "s", qos::at_least_once, wait::ack, &later), asio::detached);
        CO_ASSERT(!(co_await c.connect()));
        CO_ASSERT(co_await eventually([&] { return later.has_value(); }));
        EXPECT_FALSE(later->ec) << later->ec.message();
        EXPECT_EQ(later->granted, (std::vector<std::uint8_t>{1}));
        EXPECT_EQ(subscription_packets(server, 2), (std::vector<std::string>{"S s"}));
    });
}

// (j), fixed in 62abc1d without a test: a SUBSCRIBE that found no free packet id goes when
// an UNSUBACK frees one, not on the next connection.
TEST(Review, ASubscribeThatFoundNoPacketIdGoesAtTheNextUnsuback) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        server.hold_unsubacks = true;
        options o = persistent(server.port());
        o.window = 1;  // 1 + 16 packet ids
        client c(io.get_executor(), o);
        CO_ASSERT(!(co_await c.connect()));
        for (int i = 0; i < 17; ++i) {
            asio::co_spawn(io, c.unsubscribe("u/" + std::to_string(i), wait::none), asio::detached);
        }
        std::optional<subscribe_result> r;
        asio::co_spawn(io, subscribe_into(&c, "z", qos::at_least_once, wait::ack, &r), asio::detached);
        CO_ASSERT(!(co_await c.ping()));
        CO_ASSERT(server.held_unsubacks().size() == 17);
        EXPECT_TRUE(server.ids(1, test::subscribe_type).empty());
        server.send_unsuback(server.held_unsubacks().front());
        CO_ASSERT(co_await eventually([&] { return r.has_value(); }));
        EXPECT_FALSE(r->ec) << r->ec.message();
        EXPECT_EQ(server.ids(1, test::subscribe_type).size(), 1u);
        EXPECT_EQ(server.connections, 1);
    });
}

// (j) Qos2Backlog did not show that the table of received QoS 2 ids grew past its largest
// list (512) to the bitmap. Here the server holds 1,000 ids unreleased at once and sends
// each again: every one is delivered once, answered twice, on one connection.
TEST(Review, MoreQos2IdsAwaitingPubrelThanAnyListHoldsAreHeldWithoutDisconnecting) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        server.release_qos2 = false;
        client c(io.get_executor(), persistent(server.port()));
        CO_ASSERT(!(co_await c.connect()));
        int delivered = 0;
        subscription s("q", qos::exactly_once, [&](const message&) { ++delivered; });
        CO_ASSERT(!(co_await c.subscribe(std::move(s))).ec);
        constexpr int count = 1'000;
        for (int id = 1; id <= count; ++id) server.publish("q", "m", 2, static_cast<std::uint16_t>(id));
        CO_ASSERT(co_await eventually([&] { return server.ids(1, test::pubrec).size() == count; }, 30s));
        for (int id = 1; id <= count; ++id) server.publish("q", "m", 2, static_cast<std::uint16_t>(id), true);
        CO_ASSERT(co_await eventually([&] { return server.ids(1, test::pubrec).size() == 2 * count; }, 30s));
        EXPECT_EQ(delivered, count);
        EXPECT_EQ(server.connections, 1);
    }, 90s);
}

}  // namespace
}  // namespace tether::client
