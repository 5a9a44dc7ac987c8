// The refusal probe in the engine, against a scripted broker that speaks raw MQTT: after
// the server closes a link with publishes unacknowledged, the next connection probes with
// the oldest PUBLISH; when there is none to send (only a PUBREL), probing must end at once,
// or every later publish would wait for a reconnect that never comes.

#include <gtest/gtest.h>

#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <memory>
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

}  // namespace
}  // namespace tether::client
