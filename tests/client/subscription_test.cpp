// Subscriptions as the server holds them: one SUBSCRIBE per filter per connection, an
// UNSUBSCRIBE whenever asked (the server's state is what matters), masters and what they
// cover, the QoS the server granted; and two promises about failure and time limits.
// Each test names the defect it guards; each fails on the code before its fix.

#include <gtest/gtest.h>

#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <memory>
#include <string>
#include <vector>

#include "../support/broker.hpp"
#include "../support/coro_test.hpp"
#include "../support/loopback.hpp"
#include "tether/client/client.hpp"
#include "use_tuple.hpp"

namespace tether::client {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::mosquitto_broker;
using test::run_coro;

options local(const mosquitto_broker& b, std::string id, bool clean = true) {
    options o = test::loopback(b.port(), std::move(id));
    o.keep_alive_s = 30;
    o.clean_session = clean;
    return o;
}

struct counter {
    std::vector<std::string> topics;
};

subscription count_into(std::string filter, qos q, std::shared_ptr<counter> into) {
    return {std::move(filter), q, [into](const message& m) { into->topics.emplace_back(m.topic); }};
}

// After a PINGRESP, the broker has read everything the client sent before its PINGREQ,
// and sent it everything it had queued for it before that (mosquitto answers in order).
asio::awaitable<void> sync(client& c) { EXPECT_FALSE(co_await c.ping()); }

// Defect: a subscription made before connect() went out twice (restored, then sent as
// deferred), and every retained message came twice.
TEST(Subscriptions, OneMadeBeforeConnectIsSentOnce) {
    mosquitto_broker broker({.log_packets = true});
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client pub(io.get_executor(), local(broker, "pub"));
        CO_ASSERT(!(co_await pub.connect()));
        CO_ASSERT(!(co_await pub.publish("r/t", "kept", qos::at_least_once, wait::ack, true)));
        client sub(io.get_executor(), local(broker, "sub"));
        auto got = std::make_shared<counter>();
        const auto early = co_await sub.subscribe(count_into("r/t", qos::at_least_once, got), wait::none);
        CO_ASSERT(!early.ec);
        CO_ASSERT(!(co_await sub.connect()));
        CO_ASSERT(co_await eventually([&] { return got->topics.size() >= 1; }));
        co_await sync(sub);
        EXPECT_EQ(broker.log_count("Received SUBSCRIBE from sub"), 1u) << broker.log();
        EXPECT_EQ(got->topics.size(), 1u) << "the retained message came more than once";
    });
}

// Defect: unsubscribe() of a filter this process had not subscribed sent nothing, so a
// persistent session kept it (mosquitto_sub -c -U does exactly this).
TEST(Subscriptions, UnsubscribeReachesTheServerForAFilterSubscribedByAnEarlierProcess) {
    mosquitto_broker broker({.log_packets = true});
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        {
            client earlier(io.get_executor(), local(broker, "dev", false));
            CO_ASSERT(!(co_await earlier.connect()));
            CO_ASSERT(!(co_await earlier.subscribe(subscription("old/topic", qos::at_least_once))).ec);
            CO_ASSERT(!(co_await earlier.disconnect()));
        }
        client now(io.get_executor(), local(broker, "dev", false));
        CO_ASSERT(!(co_await now.connect()));
        CO_ASSERT(!(co_await now.unsubscribe("old/topic", wait::ack)));
        EXPECT_EQ(broker.log_count("Received UNSUBSCRIBE from dev"), 1u) << broker.log();
        CO_ASSERT(!(co_await now.disconnect()));

        // The session no longer collects on it: nothing is waiting at the next connection.
        client pub(io.get_executor(), local(broker, "pub"));
        CO_ASSERT(!(co_await pub.connect()));
        CO_ASSERT(!(co_await pub.publish("old/topic", "stale", qos::at_least_once)));
        client later(io.get_executor(), local(broker, "dev", false));
        auto got = std::make_shared<counter>();
        CO_ASSERT(!(co_await later.subscribe(count_into("#", qos::at_least_once, got), wait::none)).ec);
        CO_ASSERT(!(co_await later.connect()));
        co_await sync(later);
        EXPECT_TRUE(got->topics.empty()) << "the session still held old/topic";
    });
}

// Defect: offline, unsubscribe() reported success and sent nothing, while a persistent
// session keeps its subscriptions at the server.
TEST(Subscriptions, UnsubscribeWhileOfflineIsSentOnTheNextConnection) {
    mosquitto_broker broker({.persistence = true, .log_packets = true});
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o = local(broker, "dev", false);
        o.reconnect.initial_delay = 20ms;
        o.reconnect.max_delay = 200ms;
        client dev(io.get_executor(), o);
        bool up = false;
        dev.on_connection_event([&](const connection_event& e) { up = e.state == connection_state::connected; });
        CO_ASSERT(!(co_await dev.connect()));
        auto got = std::make_shared<counter>();
        CO_ASSERT(!(co_await dev.subscribe(count_into("x/t", qos::at_least_once, got))).ec);
        CO_ASSERT(!(co_await dev.subscribe(subscription("y/t", qos::at_least_once))).ec);
        broker.stop();
        CO_ASSERT(co_await eventually([&] { return !up; }));
        CO_ASSERT(!(co_await dev.unsubscribe("x/t", wait::none)));
        broker.start();
        CO_ASSERT(co_await eventually([&] { return up; }, 20s));
        co_await sync(dev);
        EXPECT_EQ(broker.log_count("Received UNSUBSCRIBE from dev"), 1u) << broker.log();

        client pub(io.get_executor(), local(broker, "pub"));
        CO_ASSERT(!(co_await pub.connect()));
        CO_ASSERT(!(co_await pub.publish("x/t", "gone", qos::at_least_once)));
        co_await sync(dev);
        EXPECT_TRUE(got->topics.empty());
    });
}

// Defect: unsubscribing a master left the filters it covered without a subscription at
// the server; they must get their own SUBSCRIBE, before the master goes.
TEST(Subscriptions, UnsubscribingAMasterKeepsTheFiltersItServed) {
    mosquitto_broker broker({.log_packets = true});
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client dev(io.get_executor(), local(broker, "dev"));
        CO_ASSERT(!(co_await dev.connect()));
        auto all = std::make_shared<counter>();
        auto one = std::make_shared<counter>();
        CO_ASSERT(!(co_await dev.subscribe(count_into("o/#", qos::at_least_once, all))).ec);
        CO_ASSERT(!(co_await dev.subscribe(count_into("o/b", qos::at_least_once, one))).ec);
        co_await sync(dev);
        EXPECT_EQ(broker.log_count("Received SUBSCRIBE from dev"), 1u) << "o/b is served by o/#";
        CO_ASSERT(!(co_await dev.unsubscribe("o/#")));
        co_await sync(dev);
        EXPECT_EQ(broker.log_count("Received SUBSCRIBE from dev"), 2u) << broker.log();
        EXPECT_EQ(broker.log_count("\to/b (QoS 1)"), 1u) << broker.log();

        client pub(io.get_executor(), local(broker, "pub"));
        CO_ASSERT(!(co_await pub.connect()));
        CO_ASSERT(!(co_await pub.publish("o/c", "not any more", qos::at_least_once)));
        CO_ASSERT(!(co_await pub.publish("o/b", "still", qos::at_least_once)));
        CO_ASSERT(co_await eventually([&] { return one->topics.size() == 1; }));
        co_await sync(dev);
        EXPECT_TRUE(all->topics.empty());
        EXPECT_EQ(one->topics, std::vector<std::string>{"o/b"});
    });
}

// Defect: the client recorded the QoS it asked for, not the one granted, so a filter
// under a master was "served" at a QoS the server never granted.
TEST(Subscriptions, AMasterServesOnlyAtTheQosTheServerGranted) {
    mosquitto_broker broker({.extra_config = "max_qos 1\n", .log_packets = true});
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client dev(io.get_executor(), local(broker, "dev"));
        CO_ASSERT(!(co_await dev.connect()));
        const auto master = co_await dev.subscribe(subscription("o/#", qos::exactly_once));
        CO_ASSERT(!master.ec);
        EXPECT_EQ(master.granted, std::vector<std::uint8_t>{1});
        // QoS 2 asked under a master granted 1: a SUBSCRIBE of its own, and the truth.
        const auto under = co_await dev.subscribe(subscription("o/b", qos::exactly_once));
        CO_ASSERT(!under.ec);
        EXPECT_EQ(under.granted, std::vector<std::uint8_t>{1});
        co_await sync(dev);
        EXPECT_EQ(broker.log_count("Received SUBSCRIBE from dev"), 2u) << broker.log();
        // QoS 1 under it is served by the master, and says so.
        const auto low = co_await dev.subscribe(subscription("o/c", qos::at_least_once));
        EXPECT_EQ(low.granted, std::vector<std::uint8_t>{1});
        co_await sync(dev);
        EXPECT_EQ(broker.log_count("Received SUBSCRIBE from dev"), 2u) << broker.log();
    });
}

// Defect: `tether sub -t 'o/#' -t o/b` printed a message on o/b twice; one subscribe()
// call is one subscription, whose handler sees each message once.
TEST(Subscriptions, AMessageMatchingSeveralFiltersOfOneCallReachesItsHandlerOnce) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client dev(io.get_executor(), local(broker, "dev"));
        CO_ASSERT(!(co_await dev.connect()));
        auto got = std::make_shared<counter>();
        auto other = std::make_shared<counter>();
        std::vector<subscription> both{count_into("o/#", qos::at_least_once, got),
                                       count_into("o/b", qos::at_least_once, got)};
        CO_ASSERT(!(co_await dev.subscribe(std::move(both))).ec);
        // Another call's handler is another subscription: it sees the message too.
        CO_ASSERT(!(co_await dev.subscribe(count_into("o/b", qos::at_least_once, other))).ec);
        client pub(io.get_executor(), local(broker, "pub"));
        CO_ASSERT(!(co_await pub.connect()));
        CO_ASSERT(!(co_await pub.publish("o/b", "1", qos::at_least_once)));
        CO_ASSERT(!(co_await pub.publish("o/end", "2", qos::at_least_once)));
        CO_ASSERT(co_await eventually([&] { return got->topics.size() >= 2; }));
        co_await sync(dev);
        EXPECT_EQ(got->topics, (std::vector<std::string>{"o/b", "o/end"}));
        EXPECT_EQ(other->topics, std::vector<std::string>{"o/b"});
    });
}

// A broker that accepts the connection, answers CONNECT with CONNACK (or never), and
// acknowledges nothing; it records every byte each connection sent.
class mute_broker {
public:
    mute_broker(asio::io_context& io, bool send_connack)
        : acceptor_(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), connack_(send_connack) {
        asio::co_spawn(io, serve(), asio::detached);
    }
    [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::vector<std::shared_ptr<std::vector<std::uint8_t>>> connections;

private:
    asio::awaitable<void> serve() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(detail::use_tuple);
            if (ec) co_return;
            auto bytes = std::make_shared<std::vector<std::uint8_t>>();
            connections.push_back(bytes);
            asio::co_spawn(acceptor_.get_executor(), talk(std::move(socket), bytes), asio::detached);
        }
    }
    asio::awaitable<void> talk(asio::ip::tcp::socket s, std::shared_ptr<std::vector<std::uint8_t>> bytes) {
        std::array<std::uint8_t, 4096> buf{};
        bool answered = false;
        for (;;) {
            auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), detail::use_tuple);
            if (ec) co_return;
            bytes->insert(bytes->end(), buf.begin(), buf.begin() + static_cast<long>(n));
            if (connack_ && !answered) {
                answered = true;
                static constexpr std::array<std::uint8_t, 4> connack{0x20, 0x02, 0x00, 0x00};
                co_await asio::async_write(s, asio::buffer(connack), detail::use_tuple);
            }
        }
    }
    asio::ip::tcp::acceptor acceptor_;
    bool connack_;
};

// The packet types (high nibble of each fixed header) in a stream of whole packets.
std::vector<int> packet_types(const std::vector<std::uint8_t>& b) {
    std::vector<int> types;
    std::size_t i = 0;
    while (i < b.size()) {
        types.push_back(b[i] >> 4);
        std::size_t length = 0, shift = 0, j = i + 1;
        while (j < b.size()) {
            length |= static_cast<std::size_t>(b[j] & 0x7F) << shift;
            shift += 7;
            if ((b[j++] & 0x80) == 0) break;
        }
        i = j + length;
    }
    return types;
}

// Defect: after disconnect() timed out, messages still in flight were reported
// client_stopped, yet the next connect() sent them again.
TEST(Failure, AMessageReportedFailedIsNeverSentAfterwards) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        mute_broker mute(io, true);
        options o = test::loopback(mute.port(), "dev");
        o.clean_session = false;
        client dev(io.get_executor(), o);
        CO_ASSERT(!(co_await dev.connect()));
        std::error_code outcome;
        bool finished = false;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                outcome = co_await dev.publish("t", "unacknowledged", qos::at_least_once, wait::ack);
                finished = true;
            },
            asio::detached);
        CO_ASSERT(co_await eventually([&] { return dev.in_flight() == 1; }));
        EXPECT_EQ(co_await dev.disconnect(100ms), make_error_code(errc::timeout));
        CO_ASSERT(co_await eventually([&] { return finished; }));
        EXPECT_EQ(outcome, make_error_code(errc::client_stopped));

        CO_ASSERT(!(co_await dev.connect()));
        // Resends go out at CONNACK, before anything published after it: once this marker
        // has arrived, a resend would have too.
        CO_ASSERT(!(co_await dev.publish("m", "marker", qos::at_most_once, wait::sent)));
        CO_ASSERT(mute.connections.size() == 2);
        const auto& second = *mute.connections[1];
        CO_ASSERT(co_await eventually([&] { return packet_types(second).size() >= 2; }));
        // CONNECT (1), then the marker (3): no PUBLISH of the failed message.
        EXPECT_EQ(packet_types(second), (std::vector<int>{1, 3}));
        const std::string text(second.begin(), second.end());
        EXPECT_EQ(text.find("unacknowledged"), std::string::npos);
        EXPECT_EQ(dev.in_flight(), 0u);
    });
}

// Defect: connect_timeout is documented as covering TCP + TLS + CONNACK, but the wait for
// CONNACK was cut off by the response timeout (half the keep-alive).
TEST(Failure, ConnectTimeoutAloneLimitsTheWaitForConnack) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        mute_broker silent(io, false);
        options o = test::loopback(silent.port(), "dev");
        o.keep_alive_s = 1;  // a response timeout of 500 ms
        o.connect_timeout = 2s;
        client dev(io.get_executor(), o);
        const auto start = std::chrono::steady_clock::now();
        const std::error_code ec = co_await dev.connect();
        // The engine's deadline (errc::timeout), not the core's CONNACK timeout; and not
        // before it (a busy machine can only make it later).
        EXPECT_EQ(ec, make_error_code(errc::timeout)) << ec.message();
        EXPECT_GE(std::chrono::steady_clock::now() - start, 2s);
    });
}

}  // namespace
}  // namespace tether::client
