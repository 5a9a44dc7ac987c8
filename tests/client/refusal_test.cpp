// The refusal probe in the engine, against a scripted broker that speaks raw MQTT: after
// the server closes a link with publishes unacknowledged, the next connection probes with
// the oldest PUBLISH; when there is none to send (only a PUBREL), probing must end at once,
// or every later publish would wait for a reconnect that never comes.

#include <gtest/gtest.h>

#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../support/coro_test.hpp"
#include "../support/loopback.hpp"
#include "tether/client/client.hpp"
#include "use_tuple.hpp"

namespace tether::client {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::run_coro;

// Connection 1 takes a QoS 2 PUBLISH (PUBREC) and closes the link when the PUBREL comes;
// later connections say the session is present and answer everything.
class closing_broker {
public:
    explicit closing_broker(asio::io_context& io)
        : acceptor_(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        asio::co_spawn(io, serve(), asio::detached);
    }
    [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    int connections = 0;
    int qos1_acked = 0;

private:
    asio::awaitable<void> serve() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(detail::use_tuple);
            if (ec) co_return;
            asio::co_spawn(acceptor_.get_executor(), talk(std::move(socket), ++connections), asio::detached);
        }
    }
    asio::awaitable<void> talk(asio::ip::tcp::socket s, int n) {
        std::vector<std::uint8_t> in;
        std::array<std::uint8_t, 4096> buf{};
        for (;;) {
            auto [ec, got] = co_await s.async_read_some(asio::buffer(buf), detail::use_tuple);
            if (ec) co_return;
            in.insert(in.end(), buf.begin(), buf.begin() + static_cast<long>(got));
            // Whole packets (remaining lengths under 128 here).
            while (in.size() >= 2 && in.size() >= 2u + in[1]) {
                const std::uint8_t type = in[0] >> 4, qos = (in[0] >> 1) & 3;
                const std::size_t size = 2u + in[1];
                std::vector<std::uint8_t> reply;
                if (type == 1) reply = {0x20, 0x02, static_cast<std::uint8_t>(n > 1 ? 1 : 0), 0x00};  // CONNACK
                if (type == 3 && qos != 0) {
                    const std::size_t topic = (std::size_t{in[2]} << 8) | in[3];
                    const std::uint8_t hi = in[4 + topic], lo = in[5 + topic];
                    if (qos == 1) ++qos1_acked;
                    reply = {static_cast<std::uint8_t>(qos == 1 ? 0x40 : 0x50), 0x02, hi, lo};  // PUBACK / PUBREC
                }
                if (type == 6) {  // PUBREL
                    if (n == 1) co_return;  // the server closes the link before PUBCOMP
                    reply = {0x70, 0x02, in[2], in[3]};
                }
                if (type == 12) reply = {0xD0, 0x00};  // PINGRESP
                in.erase(in.begin(), in.begin() + static_cast<long>(size));
                if (!reply.empty()) co_await asio::async_write(s, asio::buffer(reply), detail::use_tuple);
            }
        }
    }
    asio::ip::tcp::acceptor acceptor_;
};

TEST(RefusalProbe, ALinkClosedWithOnlyAPubrelToResendDoesNotStallPublishing) {
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            closing_broker broker(io);
            options o = test::loopback(broker.port(), "dev");
            o.clean_session = false;
            o.reconnect.initial_delay = 10ms;
            client c(io.get_executor(), o);
            int connected = 0;
            c.on_connection_event([&](const connection_event& e) {
                if (e.state == connection_state::connected) ++connected;
            });
            CO_ASSERT(!(co_await c.connect()));
            // PUBREC, then our PUBREL makes the server close the link: the message is past
            // PUBREC, so the next connection resends only its PUBREL [MQTT-4.4.0-1].
            const auto two = co_await c.publish("t", "two", qos::exactly_once, wait::ack);
            EXPECT_FALSE(two) << two.message();
            CO_ASSERT(connected == 2);
            // A publish on the new connection goes out and is acknowledged (before the fix
            // it waited in the queue for the probing that never ended).
            const auto one = co_await c.publish("t", "one", qos::at_least_once, wait::ack);
            EXPECT_FALSE(one) << one.message();
            EXPECT_EQ(broker.qos1_acked, 1);
            EXPECT_EQ(c.queued(), 0u);
        },
        20s);
}

// Answers as a broker with a persistent session would (CONNACK with the session present
// from the second connection, PUBACK, PUBREC, PUBCOMP, PINGRESP), except where `decide`
// says to close the link instead of answering a packet (and everything after it).
class policy_broker {
public:
    // connection (from 1), packet type, topic of a PUBLISH: true to close the link there.
    using close_at = std::function<bool(int, std::uint8_t, std::string_view)>;
    policy_broker(asio::io_context& io, close_at decide)
        : acceptor_(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), decide_(std::move(decide)) {
        asio::co_spawn(io, serve(), asio::detached);
    }
    [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    int connections = 0;
    std::vector<std::string> acked;  // the topics of the PUBLISHes answered, in order

private:
    asio::awaitable<void> serve() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(detail::use_tuple);
            if (ec) co_return;
            asio::co_spawn(acceptor_.get_executor(), talk(std::move(socket), ++connections), asio::detached);
        }
    }
    asio::awaitable<void> talk(asio::ip::tcp::socket s, int n) {
        std::vector<std::uint8_t> in;
        std::array<std::uint8_t, 4096> buf{};
        for (;;) {
            auto [ec, got] = co_await s.async_read_some(asio::buffer(buf), detail::use_tuple);
            if (ec) co_return;
            in.insert(in.end(), buf.begin(), buf.begin() + static_cast<long>(got));
            while (in.size() >= 2 && in.size() >= 2u + in[1]) {  // remaining lengths under 128 here
                const std::uint8_t type = in[0] >> 4, qos = (in[0] >> 1) & 3;
                const std::size_t size = 2u + in[1];
                std::string_view topic;
                std::size_t topic_size = 0;
                if (type == 3) {
                    topic_size = (std::size_t{in[2]} << 8) | in[3];
                    topic = {reinterpret_cast<const char*>(in.data() + 4), topic_size};
                }
                if (decide_(n, type, topic)) co_return;  // closed: the socket goes with the frame
                std::vector<std::uint8_t> reply;
                if (type == 1) reply = {0x20, 0x02, static_cast<std::uint8_t>(n > 1 ? 1 : 0), 0x00};
                if (type == 3 && qos != 0) {
                    acked.emplace_back(topic);
                    reply = {static_cast<std::uint8_t>(qos == 1 ? 0x40 : 0x50), 0x02, in[4 + topic_size],
                             in[5 + topic_size]};
                }
                if (type == 6) reply = {0x70, 0x02, in[2], in[3]};
                if (type == 12) reply = {0xD0, 0x00};
                in.erase(in.begin(), in.begin() + static_cast<long>(size));
                if (!reply.empty()) co_await asio::async_write(s, asio::buffer(reply), detail::use_tuple);
            }
        }
    }
    asio::ip::tcp::acceptor acceptor_;
    close_at decide_;
};

options persistent_fast_reconnect(std::uint16_t port) {
    options o = test::loopback(port, "dev");
    o.clean_session = false;
    o.reconnect.initial_delay = 10ms;
    o.reconnect.max_delay = 20ms;
    return o;
}

// A link cut before the server read the probe (here: right after CONNACK, five times in a
// row, as a flapping network or a server slow to resume a large session does) is not the
// server refusing the probe: the message is delivered when a connection lasts. Before the
// PINGREQ barrier, two such cuts failed it with publish_refused (a QoS 2 line of `tether pub
// -l` was lost that way under random cuts, the command exiting 0).
TEST(RefusalProbe, LinksCutBeforeTheServerReadTheProbeDoNotRefuseIt) {
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            // Connection 1 closes at the PUBLISH; 2 to 6 close at the first packet after
            // CONNACK, whatever it is (the barrier PINGREQ is never answered).
            policy_broker broker(io, [](int n, std::uint8_t type, std::string_view) {
                if (n == 1) return type == 3;
                return n <= 6 && type != 1;
            });
            client c(io.get_executor(), persistent_fast_reconnect(broker.port()));
            CO_ASSERT(!(co_await c.connect()));
            const auto ec = co_await c.publish("t", "kept", qos::at_least_once, wait::ack);
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_EQ(broker.acked, (std::vector<std::string>{"t"}));
            EXPECT_EQ(broker.connections, 7);
            EXPECT_EQ(c.stats().messages_refused, 0u);
        },
        20s);
}

// A server that refuses a message by closing the link when it reads it, every time, and
// answers everything else: the PINGREQ ahead of the probe is answered, the probe is
// refused after three such closes, and the message behind it goes.
TEST(RefusalProbe, AServerThatClosesAtAMessageEveryTimeRefusesItAfterThreeProbes) {
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            policy_broker broker(io, [](int, std::uint8_t type, std::string_view topic) {
                return type == 3 && topic == "forbidden";
            });
            client c(io.get_executor(), persistent_fast_reconnect(broker.port()));
            CO_ASSERT(!(co_await c.connect()));
            std::error_code refused;
            bool heard = false;
            asio::co_spawn(io, c.publish("forbidden", "x", qos::at_least_once, wait::ack),
                           [&](std::exception_ptr, std::error_code ec) {
                               refused = ec;
                               heard = true;
                           });
            const auto ec = co_await c.publish("allowed", "y", qos::at_least_once, wait::ack);
            EXPECT_FALSE(ec) << ec.message();
            CO_ASSERT(co_await eventually([&] { return heard; }));
            EXPECT_EQ(refused, errc::publish_refused);
            EXPECT_EQ(broker.acked, (std::vector<std::string>{"allowed"}));
            EXPECT_EQ(broker.connections, 5);  // the first, then three probes, then the one that lasts
            EXPECT_EQ(c.stats().messages_refused, 1u);
        },
        20s);
}

}  // namespace
}  // namespace tether::client
