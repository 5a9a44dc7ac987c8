// The same client tests against each broker: mosquitto, RabbitMQ 3.10 (MQTT plugin) and
// NATS 2.9 (MQTT over JetStream), each started once for its suite on free loopback ports.
// Where a broker does less than the specification allows (no QoS 2), the client must say so
// and never hang or lose a message silently. Topics and client ids carry the test's name,
// so the tests sharing one broker do not see each other.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../support/coro_test.hpp"
#include "../support/loopback.hpp"
#include "broker_kinds.hpp"
#include "refusal_probe.hpp"
#include "tether/client/client.hpp"

namespace tether::client {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::run_coro;

struct received {
    std::vector<std::string> payloads;
    std::vector<std::string> topics;
    std::vector<message> meta;  // flags only: the views died with the call
};

subscription collect(std::string filter, qos q, std::shared_ptr<received> into) {
    return {std::move(filter), q, [into](const message& m) {
                into->payloads.emplace_back(m.text());
                into->topics.emplace_back(m.topic);
                into->meta.push_back(message{.qos = m.qos, .retain = m.retain, .dup = m.dup});
            }};
}

template <class Kind>
class Matrix : public testing::Test {
protected:
    static void SetUpTestSuite() {
        try {
            broker_ = std::make_unique<Kind>();
        } catch (const std::exception& e) {
            start_error_ = e.what();
        }
    }
    static void TearDownTestSuite() { broker_.reset(); }
    void SetUp() override { ASSERT_TRUE(broker_) << "the broker did not start: " << start_error_; }

    static Kind& broker() { return *broker_; }

    // Client ids and topics of this test only.
    static std::string name() { return testing::UnitTest::GetInstance()->current_test_info()->name(); }
    static std::string topic(const std::string& leaf) { return "t/" + name() + "/" + leaf; }
    static options opts(const std::string& role) {
        options o = test::loopback(broker_->port(), name() + "-" + role);
        o.keep_alive_s = 30;
        o.reconnect.initial_delay = 50ms;
        o.reconnect.max_delay = 500ms;
        return o;
    }

private:
    static inline std::unique_ptr<Kind> broker_;
    static inline std::string start_error_;
};

struct kind_names {
    template <class T>
    static std::string GetName(int) {
        if constexpr (std::is_same_v<T, test::mosquitto_kind>) return "mosquitto";
        if constexpr (std::is_same_v<T, test::rabbitmq_kind>) return "rabbitmq";
        return "nats";
    }
};

using kinds = testing::Types<test::mosquitto_kind, test::rabbitmq_kind, test::nats_kind>;
TYPED_TEST_SUITE(Matrix, kinds, kind_names);

TYPED_TEST(Matrix, ConnectsPingsAndDisconnects) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), TestFixture::opts("c"));
        const auto ec = co_await c.connect();
        CO_ASSERT(!ec);
        EXPECT_TRUE(c.is_connected());
        EXPECT_FALSE(co_await c.ping());
        EXPECT_FALSE(co_await c.disconnect());
        EXPECT_FALSE(c.is_connected());
    });
}

TYPED_TEST(Matrix, Qos0And1RoundTrips) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client sub(io.get_executor(), TestFixture::opts("sub"));
        client pub(io.get_executor(), TestFixture::opts("pub"));
        CO_ASSERT(!(co_await sub.connect()));
        CO_ASSERT(!(co_await pub.connect()));
        auto got = std::make_shared<received>();
        const auto s = co_await sub.subscribe(collect(TestFixture::topic("+"), qos::at_least_once, got));
        CO_ASSERT(!s.ec);
        EXPECT_EQ(s.granted, std::vector<std::uint8_t>{1});

        EXPECT_FALSE(co_await pub.publish(TestFixture::topic("zero"), "q0", qos::at_most_once, wait::ack));
        EXPECT_FALSE(co_await pub.publish(TestFixture::topic("one"), "q1", qos::at_least_once, wait::ack));
        EXPECT_EQ(pub.in_flight(), 0u);
        CO_ASSERT(co_await eventually([&] { return got->payloads.size() >= 2; }));
        EXPECT_EQ(got->payloads, (std::vector<std::string>{"q0", "q1"}));
        EXPECT_EQ(got->meta[0].qos, qos::at_most_once);
        EXPECT_EQ(got->meta[1].qos, qos::at_least_once);
        EXPECT_FALSE(got->meta[1].retain);
    });
}

// What the broker grants for each QoS asked, reported to the caller as the SUBACK says.
TYPED_TEST(Matrix, SubackGrantsWhatTheBrokerSupports) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client sub(io.get_executor(), TestFixture::opts("sub"));
        CO_ASSERT(!(co_await sub.connect()));
        std::vector<subscription> three;
        three.emplace_back(TestFixture::topic("q0"), qos::at_most_once);
        three.emplace_back(TestFixture::topic("q1"), qos::at_least_once);
        three.emplace_back(TestFixture::topic("q2"), qos::exactly_once);
        const auto s = co_await sub.subscribe(std::move(three));
        EXPECT_FALSE(s.ec) << s.ec.message();  // a lower QoS granted is no refusal [MQTT-3.9.3]
        EXPECT_EQ(s.granted, (std::vector<std::uint8_t>{0, 1, TypeParam::granted_for_qos2}));
    });
}

// A QoS 2 publish ends, one way or the other, and says how: exactly once where the broker
// has QoS 2; where it answers PUBACK, the message is delivered (once, at QoS 1), nothing
// stays in flight and the publish reports qos2_answered_with_puback; where it closes the
// connection, the publish fails with an error and is not sent again for ever, and the
// client goes on working.
TYPED_TEST(Matrix, Qos2PublishEndsAndSaysHow) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client sub(io.get_executor(), TestFixture::opts("sub"));
        client pub(io.get_executor(), TestFixture::opts("pub"));
        CO_ASSERT(!(co_await sub.connect()));
        CO_ASSERT(!(co_await pub.connect()));
        auto got = std::make_shared<received>();
        {
            const subscribe_result r = co_await sub.subscribe(collect(TestFixture::topic("x"), qos::exactly_once, got));
            CO_ASSERT(!r.ec);
        }

        const auto ec = co_await pub.publish(TestFixture::topic("x"), "two", qos::exactly_once, wait::ack);
        EXPECT_EQ(pub.in_flight(), 0u);
        EXPECT_EQ(pub.queued(), 0u);
        // Then a QoS 1 marker on the same topic: once it is in, whatever the broker was going
        // to deliver of the QoS 2 message has been delivered [MQTT-4.6.0-6].
        const auto marker = co_await pub.publish(TestFixture::topic("x"), "marker", qos::at_least_once, wait::ack);
        EXPECT_FALSE(marker) << marker.message();
        CO_ASSERT(co_await eventually([&] { return !got->payloads.empty() && got->payloads.back() == "marker"; }));

        switch (TypeParam::answer) {
        case test::qos2_answer::pubrec:
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_EQ(got->payloads, (std::vector<std::string>{"two", "marker"}));
            EXPECT_EQ(got->meta[0].qos, qos::exactly_once);
            break;
        case test::qos2_answer::puback:
            // Delivered, at QoS 1, once: the publish says so with its own error.
            EXPECT_EQ(ec, core::error::qos2_answered_with_puback) << ec.message();
            EXPECT_EQ(got->payloads, (std::vector<std::string>{"two", "marker"}));
            EXPECT_EQ(got->meta[0].qos, qos::at_least_once);
            break;
        case test::qos2_answer::close:
            EXPECT_EQ(ec, errc::publish_refused) << ec.message();
            EXPECT_EQ(got->payloads, (std::vector<std::string>{"marker"}));
            // The connection lost to the refusal and the probes that find it (the message
            // sent alone, refusal_probe::strikes times), not a loop of reconnect and resend.
            EXPECT_LE(pub.stats().connections, 2u + detail::refusal_probe::strikes);
            break;
        }
        EXPECT_TRUE(pub.is_connected());
    });
}

// Set, seen by a late subscriber with the retain flag; cleared by an empty retained message
// [MQTT-3.3.1-10], after which a new subscriber gets nothing retained.
TYPED_TEST(Matrix, RetainedSetAndCleared) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        const std::string t = TestFixture::topic("value");
        client pub(io.get_executor(), TestFixture::opts("pub"));
        CO_ASSERT(!(co_await pub.connect()));
        CO_ASSERT(!(co_await pub.publish(t, "kept", qos::at_least_once, wait::ack, true)));

        client late(io.get_executor(), TestFixture::opts("late"));
        CO_ASSERT(!(co_await late.connect()));
        auto got = std::make_shared<received>();
        {
            const subscribe_result r = co_await late.subscribe(collect(t, qos::at_least_once, got));
            CO_ASSERT(!r.ec);
        }
        CO_ASSERT(co_await eventually([&] { return !got->payloads.empty(); }));
        EXPECT_EQ(got->payloads[0], "kept");
        EXPECT_TRUE(got->meta[0].retain);

        CO_ASSERT(!(co_await pub.publish(t, "", qos::at_least_once, wait::ack, true)));
        client later(io.get_executor(), TestFixture::opts("later"));
        CO_ASSERT(!(co_await later.connect()));
        auto none = std::make_shared<received>();
        {
            const subscribe_result r = co_await later.subscribe(collect(t, qos::at_least_once, none));
            CO_ASSERT(!r.ec);
        }
        // A live message on the same topic: a retained one would have come before it.
        CO_ASSERT(!(co_await pub.publish(t, "live", qos::at_least_once, wait::ack)));
        CO_ASSERT(co_await eventually([&] { return !none->payloads.empty(); }));
        EXPECT_EQ(none->payloads[0], "live");
        EXPECT_FALSE(none->meta[0].retain);
    });
}

// The will goes out when the link drops, and not after a DISCONNECT [MQTT-3.1.2-8, -10].
TYPED_TEST(Matrix, WillOnADroppedLinkAndNotAfterDisconnect) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client watcher(io.get_executor(), TestFixture::opts("watcher"));
        CO_ASSERT(!(co_await watcher.connect()));
        auto got = std::make_shared<received>();
        {
            const subscribe_result r = co_await watcher.subscribe(collect(TestFixture::topic("#"), qos::at_least_once, got));
            CO_ASSERT(!r.ec);
        }

        options polite_opts = TestFixture::opts("polite");
        polite_opts.will = will_options{.topic = TestFixture::topic("polite"), .payload = "polite", .qos = qos::at_least_once};
        {
            client polite(io.get_executor(), polite_opts);
            CO_ASSERT(!(co_await polite.connect()));
            EXPECT_FALSE(co_await polite.disconnect());
        }
        options rude_opts = TestFixture::opts("rude");
        rude_opts.will = will_options{.topic = TestFixture::topic("rude"), .payload = "rude", .qos = qos::at_least_once};
        {
            client rude(io.get_executor(), rude_opts);
            CO_ASSERT(!(co_await rude.connect()));
        }  // destroyed: the link closes with no DISCONNECT
        CO_ASSERT(co_await eventually([&] { return !got->payloads.empty(); }));
        // The polite client was gone before the rude one came: its will would be first.
        EXPECT_EQ(got->payloads, std::vector<std::string>{"rude"});
        EXPECT_EQ(got->topics[0], TestFixture::topic("rude"));
    });
}

// clean session off: the broker keeps the subscription and collects QoS 1 messages while
// the client is away, and says so in CONNACK when it comes back [MQTT-3.2.2-2].
TYPED_TEST(Matrix, PersistentSessionCollectsWhileOffline) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o = TestFixture::opts("sub");
        o.clean_session = false;
        {
            client first(io.get_executor(), o);
            CO_ASSERT(!(co_await first.connect()));
            {
                const subscribe_result r = co_await first.subscribe(subscription(TestFixture::topic("#"), qos::at_least_once));
                CO_ASSERT(!r.ec);
            }
            CO_ASSERT(!(co_await first.disconnect()));
        }
        client pub(io.get_executor(), TestFixture::opts("pub"));
        CO_ASSERT(!(co_await pub.connect()));
        for (int i = 0; i < 5; ++i) {
            CO_ASSERT(!(co_await pub.publish(TestFixture::topic("m"), "m" + std::to_string(i), qos::at_least_once, wait::ack)));
        }

        client again(io.get_executor(), o);
        std::optional<bool> session_present;
        again.on_connection_event([&](const connection_event& e) {
            if (e.state == connection_state::connected && !session_present) session_present = e.session_present;
        });
        auto got = std::make_shared<received>();
        // Handlers in place before connecting: the broker sends the backlog at once.
        (void)co_await again.subscribe(collect(TestFixture::topic("#"), qos::at_least_once, got), wait::none);
        CO_ASSERT(!(co_await again.connect()));
        CO_ASSERT(co_await eventually([&] { return got->payloads.size() >= 5; }));
        EXPECT_EQ(session_present, std::optional<bool>(true));
        const std::set<std::string> distinct(got->payloads.begin(), got->payloads.end());
        EXPECT_EQ(distinct, (std::set<std::string>{"m0", "m1", "m2", "m3", "m4"}));
    });
}

// The broker stops (cleanly) and starts again on the same port while QoS 1 messages are
// published: both clients reconnect by themselves, the subscriber's persistent session
// (kept on disk by each broker) is still there, and every message arrives at least once.
// Last in the suite: it restarts the broker the others share.
TYPED_TEST(Matrix, ReconnectsAfterTheBrokerRestarts) {
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            options so = TestFixture::opts("sub");
            so.clean_session = false;
            client sub(io.get_executor(), so);
            client pub(io.get_executor(), TestFixture::opts("pub"));
            unsigned sub_connections = 0, pub_connections = 0;
            sub.on_connection_event([&](const connection_event& e) {
                if (e.state == connection_state::connected) ++sub_connections;
            });
            pub.on_connection_event([&](const connection_event& e) {
                if (e.state == connection_state::connected) ++pub_connections;
            });
            auto got = std::make_shared<received>();
            CO_ASSERT(!(co_await sub.connect()));
            {
                // Acknowledged before anything is published: a SUBSCRIBE still on its way
                // when "before" reaches the broker would miss it.
                const subscribe_result r = co_await sub.subscribe(collect(TestFixture::topic("#"), qos::at_least_once, got), wait::ack);
                CO_ASSERT(!r.ec);
            }
            CO_ASSERT(!(co_await pub.connect()));
            CO_ASSERT(!(co_await pub.publish(TestFixture::topic("m"), "before", qos::at_least_once, wait::ack)));

            // The io_context waits while the broker is away: the clients find the closed
            // links when it runs again, with the broker back.
            TestFixture::broker().stop();
            for (int i = 0; i < 5; ++i) {
                EXPECT_FALSE(pub.publish_now(TestFixture::topic("m"), "during" + std::to_string(i), qos::at_least_once));
            }
            TestFixture::broker().start();

            CO_ASSERT(co_await eventually([&] { return sub_connections >= 2 && pub_connections >= 2; }, 60s));
            CO_ASSERT(!(co_await pub.publish(TestFixture::topic("m"), "after", qos::at_least_once, wait::ack)));
            const auto all = [&] {
                const std::set<std::string> d(got->payloads.begin(), got->payloads.end());
                return d.size() >= 7;
            };
            const bool complete = co_await eventually(all, 30s);
            const std::set<std::string> distinct(got->payloads.begin(), got->payloads.end());
            EXPECT_TRUE(complete);
            EXPECT_EQ(distinct, (std::set<std::string>{"before", "during0", "during1", "during2", "during3", "during4",
                                                       "after"}));
            EXPECT_EQ(pub.in_flight(), 0u);
        },
        std::chrono::seconds(150));
}

}  // namespace
}  // namespace tether::client
