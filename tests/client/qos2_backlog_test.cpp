// How many QoS 2 messages await PUBREL is the server's choice [MQTT-4.3.3-2]: a subscriber
// with a backlog larger than any fixed table must take it all, exactly once, without ever
// dropping the link. (Before: a table of 256 ids filled, the client disconnected with
// "too many QoS 2 messages awaiting release", got the same backlog again, and so on for
// ever: 294 of 2,000 messages delivered.)

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

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

TEST(Qos2Backlog, AllOfABacklogLargerThanAnyTableArrivesOnceWithoutDisconnecting) {
    // Every queued message goes out at once when the subscriber comes back: no inflight
    // limit, no queue limit.
    mosquitto_broker broker({.extra_config = "max_inflight_messages 0\nmax_queued_messages 0\n"});
    constexpr int count = 2'000;
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            options o = test::loopback(broker.port(), "backlog-sub");
            o.clean_session = false;
            {
                client first(io.get_executor(), o);
                CO_ASSERT(!(co_await first.connect()));
                CO_ASSERT(!(co_await first.subscribe(subscription("b/t", qos::exactly_once))).ec);
                CO_ASSERT(!(co_await first.disconnect()));
            }
            client pub(io.get_executor(), test::loopback(broker.port(), "backlog-pub"));
            CO_ASSERT(!(co_await pub.connect()));
            for (int i = 0; i < count; ++i) {
                CO_ASSERT(!(co_await pub.publish("b/t", std::to_string(i), qos::exactly_once, wait::none)));
            }
            CO_ASSERT(!(co_await pub.disconnect(30s)));  // returns once every PUBCOMP is in

            client sub(io.get_executor(), o);
            int connections = 0, losses = 0;
            sub.on_connection_event([&](const connection_event& e) {
                if (e.state == connection_state::connected) ++connections;
                if (e.state == connection_state::disconnected) ++losses;
            });
            auto seen = std::make_shared<std::multiset<std::string>>();
            // Made first: GCC 12 destroys some temporaries of a co_await expression twice.
            subscription record("b/t", qos::exactly_once, [seen](const message& m) { seen->emplace(m.text()); });
            const auto subscribed = co_await sub.subscribe(std::move(record), wait::none);
            CO_ASSERT(!subscribed.ec);
            CO_ASSERT(!(co_await sub.connect()));
            CO_ASSERT(co_await eventually([&] { return seen->size() >= count; }, 60s));
            EXPECT_FALSE(co_await sub.ping());  // anything more would be in by now
            EXPECT_EQ(seen->size(), static_cast<std::size_t>(count));
            for (int i = 0; i < count; ++i) EXPECT_EQ(seen->count(std::to_string(i)), 1u) << i;
            EXPECT_EQ(connections, 1);
            EXPECT_EQ(losses, 0);
        },
        120s);
}

}  // namespace
}  // namespace tether::client
