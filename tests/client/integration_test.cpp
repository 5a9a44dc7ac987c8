// The client against a real mosquitto started by each test on a free loopback port.

#include <gtest/gtest.h>

#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "../support/broker.hpp"
#include "../support/coro_test.hpp"
#include "../support/loopback.hpp"
#include "tether/client/client.hpp"
#include "transport.hpp"

namespace tether::client {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::mosquitto_broker;
using test::run_coro;

options local(const mosquitto_broker& b, std::string id) { return test::quiet_loopback(b.port(), std::move(id)); }

struct received {
    std::vector<std::string> payloads;
    std::vector<message> meta;  // topic/payload views are dead; flags are kept
    std::vector<std::string> topics;
    bool nul_terminated = true;
};

subscription collect(std::string filter, qos q, std::shared_ptr<received> into) {
    return {std::move(filter), q, [into](const message& m) {
                into->payloads.emplace_back(m.text());
                into->topics.emplace_back(m.topic);
                into->meta.push_back(message{.qos = m.qos, .retain = m.retain, .dup = m.dup});
                if (m.payload.data()[m.payload.size()] != 0) into->nul_terminated = false;
            }};
}

class RoundTrip : public testing::TestWithParam<std::tuple<int, std::size_t>> {};

TEST_P(RoundTrip, PublishToSubscriber) {
    const auto q = static_cast<qos>(std::get<0>(GetParam()));
    const std::size_t size = std::get<1>(GetParam());
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client sub(io.get_executor(), local(broker, "sub"));
        client pub(io.get_executor(), local(broker, "pub"));
        CO_ASSERT(!(co_await sub.connect()));
        CO_ASSERT(!(co_await pub.connect()));
        auto got = std::make_shared<received>();
        const auto s = co_await sub.subscribe(collect("rt/+", q, got));
        CO_ASSERT(!s.ec);
        EXPECT_EQ(s.granted, std::vector<std::uint8_t>(1, static_cast<std::uint8_t>(q)));

        std::string payload(size, '\0');
        for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
        EXPECT_FALSE(co_await pub.publish("rt/x", payload, q, wait::ack));
        CO_ASSERT(co_await eventually([&] { return !got->payloads.empty(); }));
        EXPECT_EQ(got->payloads.size(), 1u);
        EXPECT_TRUE(got->payloads[0] == payload) << "payload of " << size << " bytes differs";
        EXPECT_EQ(got->meta[0].qos, q);
        EXPECT_TRUE(got->nul_terminated);
        EXPECT_EQ(pub.in_flight(), 0u);
        EXPECT_FALSE(co_await pub.disconnect());
        EXPECT_FALSE(co_await sub.disconnect());
    });
}

INSTANTIATE_TEST_SUITE_P(QosAndSizes, RoundTrip,
                         testing::Combine(testing::Values(0, 1, 2),
                                          testing::Values(std::size_t{0}, std::size_t{1}, std::size_t{64 * 1024},
                                                          std::size_t{1024 * 1024})));

TEST(Client, RetainedMessageReachesALateSubscriberAndIsCleared) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client pub(io.get_executor(), local(broker, "pub"));
        CO_ASSERT(!(co_await pub.connect()));
        const auto pec = co_await pub.publish("keep/me", "last value", qos::at_least_once, wait::ack, true);
        EXPECT_FALSE(pec) << pec.message();
        CO_ASSERT(!pec);

        client late(io.get_executor(), local(broker, "late"));
        CO_ASSERT(!(co_await late.connect()));
        auto got = std::make_shared<received>();
        CO_ASSERT(!(co_await late.subscribe(collect("keep/#", qos::at_least_once, got))).ec);
        CO_ASSERT(co_await eventually([&] { return !got->payloads.empty(); }));
        EXPECT_EQ(got->payloads[0], "last value");
        EXPECT_TRUE(got->meta[0].retain);

        // An empty retained message clears it [MQTT-3.3.1-10].
        CO_ASSERT(!(co_await pub.publish("keep/me", "", qos::at_least_once, wait::ack, true)));
        client later(io.get_executor(), local(broker, "later"));
        CO_ASSERT(!(co_await later.connect()));
        auto none = std::make_shared<received>();
        CO_ASSERT(!(co_await later.subscribe(collect("keep/#", qos::at_least_once, none))).ec);
        // A retained message goes out when the subscription is made; one published after
        // the SUBACK comes after it.
        CO_ASSERT(!(co_await pub.publish("keep/after", "after", qos::at_least_once, wait::ack)));
        CO_ASSERT(co_await eventually([&] { return !none->payloads.empty(); }));
        EXPECT_EQ(none->payloads, std::vector<std::string>{"after"});
    });
}

TEST(Client, WillIsPublishedOnADroppedLinkAndNotAfterDisconnect) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client watcher(io.get_executor(), local(broker, "watcher"));
        CO_ASSERT(!(co_await watcher.connect()));
        auto got = std::make_shared<received>();
        CO_ASSERT(!(co_await watcher.subscribe(collect("wills/#", qos::at_least_once, got))).ec);

        options o = local(broker, "mortal");
        o.will = will_options{.topic = "wills/mortal", .payload = "polite", .qos = qos::at_least_once};
        {
            client polite(io.get_executor(), o);
            CO_ASSERT(!(co_await polite.connect()));
            EXPECT_FALSE(co_await polite.disconnect());  // DISCONNECT: the will is discarded [MQTT-3.1.2-10]
        }
        o.will->payload = "rude";
        {
            client rude(io.get_executor(), o);
            CO_ASSERT(!(co_await rude.connect()));
        }  // destroyed: the link closes with no DISCONNECT
        // The first client's will, had it been published, would have come before this one.
        CO_ASSERT(co_await eventually([&] { return !got->payloads.empty(); }));
        EXPECT_EQ(got->payloads, std::vector<std::string>{"rude"});
        EXPECT_EQ(got->topics[0], "wills/mortal");
    });
}

// The sockets of this process connected to `port`: each one's TCP_NODELAY.
std::vector<int> nodelay_of_sockets_to(std::uint16_t port) {
    std::vector<int> found;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        const int fd = std::stoi(entry.path().filename().string());
        sockaddr_storage peer{};
        socklen_t size = sizeof peer;
        if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) != 0 || peer.ss_family != AF_INET) continue;
        if (ntohs(reinterpret_cast<const sockaddr_in*>(&peer)->sin_port) != port) continue;
        int on = -1;
        socklen_t on_size = sizeof on;
        if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &on_size) == 0) found.push_back(on != 0 ? 1 : 0);
    }
    return found;
}

// Nagle's algorithm is off on the client's connection (`tether pub/sub --nodelay` relies on
// it: they accept the flag and have nothing to turn off): with it on, a small packet
// written while an earlier one is unacknowledged waits for the peer's delayed ACK.
TEST(Client, NagleIsOff) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "nagle"));
        CO_ASSERT(!(co_await c.connect()));
        EXPECT_EQ(nodelay_of_sockets_to(broker.port()), std::vector<int>{1});
        EXPECT_FALSE(co_await c.disconnect());
    });
}

TEST(Client, UserNameAndPassword) {
    mosquitto_broker broker({.anonymous = false, .users = {{"alice", "s3cret"}}});
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options good = local(broker, "alice-dev");
        good.user_name = "alice";
        good.password = "s3cret";
        client ok(io.get_executor(), good);
        EXPECT_FALSE(co_await ok.connect());
        EXPECT_TRUE(ok.is_connected());

        options bad = good;
        bad.client_id = "mallory";
        bad.password = "guess";
        client refused(io.get_executor(), bad);
        int retries = 0;
        refused.on_connection_event([&](const connection_event& e) {
            if (e.state == connection_state::reconnecting) ++retries;
        });
        const auto ec = co_await refused.connect();
        // Reported from the first attempt, not retried: mosquitto answers 5 (not authorized)
        // for a wrong password; 4 would do as well.
        EXPECT_TRUE(ec == errc::not_authorized || ec == errc::bad_user_name_or_password) << ec.message();
        EXPECT_TRUE(is_permanent(ec));
        EXPECT_EQ(retries, 0);
        EXPECT_EQ(refused.stats().connections, 0u);
        EXPECT_FALSE(refused.is_connected());
        EXPECT_EQ(co_await refused.publish("t", "x", qos::at_least_once, wait::none), errc::not_connected);

        options anonymous = local(broker, "anon");
        client nobody(io.get_executor(), anonymous);
        const auto ec2 = co_await nobody.connect();
        EXPECT_TRUE(ec2 == errc::not_authorized || ec2 == errc::bad_user_name_or_password) << ec2.message();
    });
}

TEST(Client, EachAddressIsTriedInTurn) {
    // What a name resolving to several addresses gives: an IPv6 address that refuses, then
    // an IPv4 one with the broker.
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        detail::transport t(io.get_executor());
        const std::vector<asio::ip::tcp::endpoint> endpoints{
            {asio::ip::make_address("::1"), test::free_port()},
            {asio::ip::make_address("127.0.0.2"), test::free_port()},
            {asio::ip::make_address("127.0.0.1"), broker.port()}};
        EXPECT_FALSE(co_await t.connect_any(endpoints));
        detail::transport none(io.get_executor());
        const std::vector<asio::ip::tcp::endpoint> refusing{endpoints[0]};
        const std::vector<asio::ip::tcp::endpoint> empty;
        EXPECT_EQ(co_await none.connect_any(refusing), asio::error::connection_refused);
        EXPECT_EQ(co_await none.connect_any(empty), asio::error::not_found);
    });
}

TEST(Client, UnreachableBrokerIsReportedAtOnce) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o;
        o.host = "127.0.0.1";
        o.port = test::free_port();  // nobody listens
        o.client_id = "lonely";
        client c(io.get_executor(), o);
        const auto ec = co_await c.connect();
        EXPECT_EQ(ec, asio::error::connection_refused) << ec.message();
        EXPECT_EQ(co_await c.publish("a", "b"), errc::not_connected);
    });
}

TEST(Client, PersistentSessionReceivesWhatWasSentWhileOffline) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o = local(broker, "sleeper");
        o.clean_session = false;
        {
            client first(io.get_executor(), o);
            CO_ASSERT(!(co_await first.connect()));
            std::vector<subscription> both{{"mail/1", qos::at_least_once}, {"mail/2", qos::exactly_once}};
            CO_ASSERT(!(co_await first.subscribe(std::move(both))).ec);
            CO_ASSERT(!(co_await first.disconnect()));
        }
        client pub(io.get_executor(), local(broker, "postman"));
        CO_ASSERT(!(co_await pub.connect()));
        for (int i = 0; i < 5; ++i) {
            CO_ASSERT(!(co_await pub.publish("mail/1", "q1-" + std::to_string(i), qos::at_least_once, wait::ack)));
            CO_ASSERT(!(co_await pub.publish("mail/2", "q2-" + std::to_string(i), qos::exactly_once, wait::ack)));
        }
        auto got = std::make_shared<received>();
        client second(io.get_executor(), o);
        // Handlers first, then connect: the stored messages arrive right after CONNACK.
        CO_ASSERT(!(co_await second.subscribe(collect("mail/#", qos::exactly_once, got), wait::none)).ec);
        CO_ASSERT(!(co_await second.connect()));
        CO_ASSERT(co_await eventually([&] { return got->payloads.size() >= 10; }));
        std::map<std::string, int> count;
        for (const auto& p : got->payloads) ++count[p];
        for (int i = 0; i < 5; ++i) {
            EXPECT_GE(count["q1-" + std::to_string(i)], 1);
            EXPECT_EQ(count["q2-" + std::to_string(i)], 1);  // exactly once
        }
    });
}

TEST(Client, AThousandCoroutinesPublishWithAck) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "busy"));
        CO_ASSERT(!(co_await c.connect()));
        int done = 0;
        int failed = 0;
        for (int i = 0; i < 1000; ++i) {
            asio::co_spawn(
                io,
                [&, i]() -> asio::awaitable<void> {
                    const auto q = i % 2 == 0 ? qos::at_least_once : qos::exactly_once;
                    if (co_await c.publish("busy/" + std::to_string(i % 10), "m", q, wait::ack)) ++failed;
                    ++done;
                },
                asio::detached);
        }
        CO_ASSERT(co_await eventually([&] { return done == 1000; }, 20s));
        EXPECT_EQ(failed, 0);
        EXPECT_EQ(c.in_flight(), 0u);
        EXPECT_EQ(c.queued(), 0u);
    });
}

TEST(Client, PublishNowNeedsNoCoroutine) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "now"));
        EXPECT_EQ(c.publish_now("now/t", "early"), errc::not_connected);
        CO_ASSERT(!(co_await c.connect()));
        auto got = std::make_shared<received>();
        CO_ASSERT(!(co_await c.subscribe(collect("now/#", qos::exactly_once, got))).ec);
        // Plain calls, e.g. from a timer callback or a sensor driver.
        EXPECT_FALSE(c.publish_now("now/0", "zero"));
        EXPECT_FALSE(c.publish_now("now/1", "one", qos::at_least_once));
        EXPECT_FALSE(c.publish_now("now/2", "two", qos::exactly_once, true));
        EXPECT_EQ(c.publish_now("now/+", "bad"), errc::invalid_argument);
        CO_ASSERT(co_await eventually([&] { return got->payloads.size() == 3; }));
        EXPECT_EQ(got->payloads, (std::vector<std::string>{"zero", "one", "two"}));
        // The broker forwards a QoS 2 message before our PUBCOMP comes back.
        EXPECT_TRUE(co_await eventually([&] { return c.in_flight() == 0; }));
    });
}

TEST(Client, FastQos0ProducerIsBoundedAndDrainKeepsPace) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o = local(broker, "firehose");
        o.offline_queue_limit = 100'000;
        client c(io.get_executor(), o);
        CO_ASSERT(!(co_await c.connect()));
        auto got = std::make_shared<received>();
        CO_ASSERT(!(co_await c.subscribe(collect("fh/#", qos::at_most_once, got))).ec);
        // 4 MB of QoS 0 in one turn of the event loop: the write buffer takes 256 KiB, the
        // rest waits in the offline queue rather than growing the buffer without bound.
        const std::string payload(1000, 'q');
        constexpr int count = 4000;
        for (int i = 0; i < count; ++i) CO_ASSERT(!c.publish_now("fh/t", std::to_string(i) + payload));
        EXPECT_GT(c.queued(), 3000u);
        EXPECT_FALSE(co_await c.drain());
        EXPECT_EQ(c.queued(), 0u);
        EXPECT_FALSE(co_await c.drain());  // nothing queued: at once
        // Nothing lost, in order [MQTT-4.6.0-6].
        CO_ASSERT(co_await eventually([&] { return got->payloads.size() == count; }));
        for (int i = 0; i < count; ++i) EXPECT_EQ(got->payloads[static_cast<std::size_t>(i)], std::to_string(i) + payload);
    });
}

TEST(Client, DrainFailsWhenTheClientStops) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), options{});
        EXPECT_FALSE(co_await c.drain());  // nothing queued
        co_return;
    });
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o = local(broker, "stopper");
        o.window = 1;
        auto c = std::make_shared<client>(io.get_executor(), o);
        CO_ASSERT(!(co_await c->connect()));
        broker.stop();  // nothing will acknowledge: the second message stays queued
        CO_ASSERT(!c->publish_now("st/t", "1", qos::at_least_once));
        CO_ASSERT(!c->publish_now("st/t", "2", qos::at_least_once));
        EXPECT_EQ(c->queued(), 1u);
        // disconnect() gives up waiting for the queue after 10 ms and stops the client.
        asio::co_spawn(io, c->disconnect(10ms), asio::detached);
        EXPECT_EQ(co_await c->drain(), errc::client_stopped);
    });
}

// Coalescing, measured where timing cannot change the answer. How the broker's bytes are
// cut into reads depends on the machine; what the client writes for them does not: what a
// turn of the event loop appends goes out in one write, and so
//  - 1,000 publishes made back to back in one turn leave in one write (the kernel may take
//    a write in parts, never this small one on an idle loopback socket: 2 at most);
//  - a subscriber's PUBACKs leave in no more writes than it had reads: one write at most
//    for the acknowledgements of everything one read brought.
TEST(Client, PacketsCoalesceIntoFewWrites) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options po = local(broker, "coalesce-pub");
        po.window = 1000;
        client pub(io.get_executor(), po);
        client sub(io.get_executor(), local(broker, "coalesce-sub"));
        CO_ASSERT(!(co_await pub.connect()));
        CO_ASSERT(!(co_await sub.connect()));
        auto got = std::make_shared<received>();
        CO_ASSERT(!(co_await sub.subscribe(collect("co/#", qos::at_least_once, got))).ec);
        const auto pub_before = pub.stats();
        const auto sub_before = sub.stats();
        for (int i = 0; i < 1000; ++i) {
            CO_ASSERT(!(co_await pub.publish("co/t", "m", i % 2 == 0 ? qos::at_most_once : qos::at_least_once,
                                             wait::none)));
        }
        // Still the same turn: nothing written yet, everything waits for the one write.
        EXPECT_EQ(pub.stats().writes, pub_before.writes);
        CO_ASSERT(co_await eventually([&] { return got->payloads.size() == 1000 && pub.in_flight() == 0; }, 30s));
        // The subscriber's last PUBACKs: through once its ping is answered.
        CO_ASSERT(!(co_await sub.ping()));
        const auto pub_after = pub.stats();
        const auto sub_after = sub.stats();
        EXPECT_EQ(pub_after.messages_published - pub_before.messages_published, 1000u);
        EXPECT_EQ(sub_after.messages_received - sub_before.messages_received, 1000u);
        const auto pub_writes = pub_after.writes - pub_before.writes;
        const auto sub_writes = sub_after.writes - sub_before.writes;
        const auto sub_reads = sub_after.reads - sub_before.reads;
        std::cout << "[ coalesce ] 1000 publishes in " << pub_writes << " writes; 500 PUBACKs in " << sub_writes
                  << " writes for " << sub_reads << " reads\n";
        EXPECT_LE(pub_writes, 2u);
        EXPECT_LE(sub_writes, sub_reads + 1);  // and one for the PINGREQ
    });
}

TEST(Client, AsyncHandlerMayAwaitWithoutStallingTheClient) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "echo"));
        CO_ASSERT(!(co_await c.connect()));
        auto echoes = std::make_shared<received>();
        CO_ASSERT(!(co_await c.subscribe(collect("echo/out", qos::at_least_once, echoes))).ec);
        // Each handler waits until all 20 have started, then publishes with wait::ack. The
        // first can only go on if the client took in the other 19 messages while it
        // waited, and only finish if PUBACKs are read while handlers are suspended: a client
        // that ran handlers one at a time would never get there.
        constexpr int count = 20;
        int started = 0;
        int handled = 0;
        asio::steady_timer all_started(io, asio::steady_timer::time_point::max());
        subscription in{"echo/in", qos::at_least_once, [&](const message& m) -> asio::awaitable<void> {
                            const std::string copy(m.text());
                            if (++started == count) {
                                all_started.cancel();
                            } else {
                                (void)co_await all_started.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
                            }
                            EXPECT_FALSE(co_await c.publish("echo/out", copy, qos::at_least_once, wait::ack));
                            ++handled;
                        }};
        CO_ASSERT(!(co_await c.subscribe(in)).ec);
        for (int i = 0; i < count; ++i) {
            CO_ASSERT(!(co_await c.publish("echo/in", std::to_string(i), qos::at_least_once, wait::none)));
        }
        CO_ASSERT(co_await eventually([&] { return handled == count; }, 30s));
        CO_ASSERT(co_await eventually([&] { return echoes->payloads.size() == count; }));
    });
}

TEST(Client, MasterSubscriptionServesFiltersUnderIt) {
    mosquitto_broker broker({.log_packets = true});
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "dev"));
        CO_ASSERT(!(co_await c.connect()));
        auto all = std::make_shared<received>();
        auto store = std::make_shared<received>();
        auto metric = std::make_shared<received>();
        CO_ASSERT(!(co_await c.subscribe(collect("ioto/device/abc/#", qos::at_least_once, all))).ec);
        // Served locally: no SUBSCRIBE goes out (the result comes back without a round trip).
        std::vector<subscription> under{collect("ioto/device/abc/store/+", qos::at_least_once, store),
                                        collect("ioto/device/abc/metric/#", qos::at_most_once, metric)};
        const auto s = co_await c.subscribe(std::move(under), wait::ack);
        CO_ASSERT(!s.ec);
        const std::vector<std::uint8_t> expected_granted{1, 0};
        EXPECT_EQ(s.granted, expected_granted);
        // The broker has read everything sent before this PINGREQ: one SUBSCRIBE, the master.
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_EQ(broker.log_count("Received PINGREQ from dev"), 1u) << broker.log();
        EXPECT_EQ(broker.log_count("Received SUBSCRIBE from dev"), 1u) << broker.log();
        EXPECT_EQ(broker.log_count("ioto/device/abc/store/+"), 0u) << broker.log();
        EXPECT_EQ(broker.log_count("ioto/device/abc/metric/#"), 0u) << broker.log();
        client pub(io.get_executor(), local(broker, "cloud"));
        CO_ASSERT(!(co_await pub.connect()));
        CO_ASSERT(!(co_await pub.publish("ioto/device/abc/store/x", "1", qos::at_least_once)));
        CO_ASSERT(!(co_await pub.publish("ioto/device/abc/metric/cpu/load", "2", qos::at_least_once)));
        CO_ASSERT(!(co_await pub.publish("ioto/device/abc/other", "3", qos::at_least_once)));
        CO_ASSERT(co_await eventually([&] { return all->payloads.size() == 3; }));
        CO_ASSERT(co_await eventually([&] { return store->payloads.size() == 1 && metric->payloads.size() == 1; }));
        EXPECT_EQ(store->payloads[0], "1");
        EXPECT_EQ(metric->payloads[0], "2");
        EXPECT_EQ(broker.log_count("Received SUBSCRIBE from dev"), 1u);
    });
}

TEST(Client, RequestResponse) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client service(io.get_executor(), local(broker, "service"));
        CO_ASSERT(!(co_await service.connect()));
        // The service answers ioto/service/dev/store/get/<seq> on ioto/device/dev/store/get/<seq>;
        // "slow" only once the test lets it, after its requester has given up.
        asio::steady_timer let_slow_answer(io, asio::steady_timer::time_point::max());
        subscription answer{"ioto/service/dev/store/get/+", qos::at_least_once,
                            [&](const message& m) -> asio::awaitable<void> {
                                const std::string topic(m.topic);
                                const std::string seq = topic.substr(topic.rfind('/') + 1);
                                const std::string body = "value-of-" + std::string(m.text());
                                if (body == "value-of-slow") {
                                    (void)co_await let_slow_answer.async_wait(
                                        asio::experimental::as_tuple(asio::use_awaitable));
                                }
                                co_await service.publish("ioto/device/dev/store/get/" + seq, body, qos::at_least_once,
                                                         wait::none);
                            }};
        CO_ASSERT(!(co_await service.subscribe(answer)).ec);

        client device(io.get_executor(), local(broker, "device"));
        CO_ASSERT(!(co_await device.connect()));
        int answered = 0;
        // Several requests at once: each reply goes to its own waiter.
        for (int i = 0; i < 5; ++i) {
            asio::co_spawn(
                io,
                [&, i]() -> asio::awaitable<void> {
                    const std::string key = "k" + std::to_string(i);
                    const auto r = co_await device.request("ioto/service/dev/store/get", key,
                                                           "ioto/device/dev/store/get", 5s);
                    EXPECT_FALSE(r.ec) << r.ec.message();
                    EXPECT_EQ(r.payload, "value-of-" + key);
                    ++answered;
                },
                asio::detached);
        }
        CO_ASSERT(co_await eventually([&] { return answered == 5; }));
        const auto late = co_await device.request("ioto/service/dev/store/get", "slow", "ioto/device/dev/store/get", 100ms);
        EXPECT_EQ(late.ec, errc::timeout);
        // Its answer, coming now, goes to nobody: the next request gets its own.
        let_slow_answer.cancel();
        const auto next = co_await device.request("ioto/service/dev/store/get", "k9", "ioto/device/dev/store/get", 10s);
        EXPECT_FALSE(next.ec) << next.ec.message();
        EXPECT_EQ(next.payload, "value-of-k9");
    });
}

TEST(Client, UnsubscribeStopsDelivery) {
    mosquitto_broker broker({.log_packets = true});
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "u"));
        CO_ASSERT(!(co_await c.connect()));
        auto got = std::make_shared<received>();
        auto barrier = std::make_shared<received>();
        CO_ASSERT(!(co_await c.subscribe(collect("u/t", qos::at_least_once, got))).ec);
        CO_ASSERT(!(co_await c.subscribe(collect("u/barrier", qos::at_least_once, barrier))).ec);
        CO_ASSERT(!(co_await c.publish("u/t", "1", qos::at_least_once)));
        CO_ASSERT(co_await eventually([&] { return got->payloads.size() == 1; }));
        CO_ASSERT(!(co_await c.unsubscribe("u/t")));
        // The broker forwards a client's messages in the order they came: had it still
        // held u/t for us, "2" would arrive before the barrier.
        CO_ASSERT(!(co_await c.publish("u/t", "2", qos::at_least_once)));
        CO_ASSERT(!(co_await c.publish("u/barrier", "b", qos::at_least_once)));
        CO_ASSERT(co_await eventually([&] { return barrier->payloads.size() == 1; }));
        EXPECT_EQ(got->payloads.size(), 1u);
        // And not by dropping the handler alone: the server was told.
        EXPECT_EQ(broker.log_count("Received UNSUBSCRIBE from u"), 1u) << broker.log();
    });
}

TEST(Client, MaximumMessageSizeBothWays) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options small = local(broker, "small");
        small.max_message_size = 1000;
        small.reconnect.enabled = false;
        client c(io.get_executor(), small);
        auto ev = std::make_shared<std::error_code>();
        c.on_connection_event([ev](const connection_event& e) {
            if (e.state == connection_state::disconnected) *ev = e.reason;
        });
        CO_ASSERT(!(co_await c.connect()));
        const std::string big(2000, 'b');
        EXPECT_EQ(co_await c.publish("size/t", big), errc::message_too_large);  // refused before sending
        CO_ASSERT(!(co_await c.subscribe({"size/#", qos::at_most_once})).ec);
        client other(io.get_executor(), local(broker, "other"));
        CO_ASSERT(!(co_await other.connect()));
        // A packet larger than the limit from the server ends the connection, rather than
        // being buffered whole.
        CO_ASSERT(!(co_await other.publish("size/t", std::string(100'000, 'x'), qos::at_least_once)));
        CO_ASSERT(co_await eventually([&] { return !c.is_connected() && *ev; }));
        EXPECT_EQ(*ev, make_error_code(core::error::packet_too_large)) << ev->message();
    });
}

TEST(Client, InvalidArgumentsAreRefusedBeforeAnythingIsSent) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "strict"));
        CO_ASSERT(!(co_await c.connect()));
        EXPECT_EQ(co_await c.publish("a/+", "x"), errc::invalid_argument);
        EXPECT_EQ(co_await c.publish("", "x"), errc::invalid_argument);
        EXPECT_EQ((co_await c.subscribe({"a/#/b"})).ec, errc::invalid_argument);
        EXPECT_EQ((co_await c.subscribe({"a", static_cast<qos>(3)})).ec, errc::invalid_argument);
        EXPECT_EQ(co_await c.unsubscribe("a+"), errc::invalid_argument);
        EXPECT_TRUE(c.is_connected());
    });
}

}  // namespace
}  // namespace tether::client
