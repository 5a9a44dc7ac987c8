// The client on a 3-node NATS cluster (MQTT sessions and messages in replicated JetStream
// streams): QoS 1 messages are published while the node the clients are on is stopped;
// both move on to another node of their endpoint list, every message arrives at least
// once, and the subscriber's persistent session comes along (CONNACK session present).
//
// In CI: one stop, 200 messages. scripts/cluster.sh runs the long version
// (TETHER_CLUSTER_ROUNDS nodes stopped in turn, TETHER_CLUSTER_MESSAGES per round).

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../support/coro_test.hpp"
#include "../support/nats.hpp"
#include "tether/client/client.hpp"

namespace tether::client {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::run_coro;

int from_env(const char* name, int fallback) {
    const char* v = std::getenv(name);
    const int n = v ? std::atoi(v) : 0;
    return n > 0 ? n : fallback;
}

// Starting at member `first`, the others after it in order: Paho's serverURIs.
options cluster_options(test::nats_cluster& cluster, std::size_t first, std::string id) {
    options o;
    o.host = "127.0.0.1";
    o.port = cluster.node(first).mqtt_port();
    for (std::size_t i = 1; i < cluster.size(); ++i) {
        o.more_endpoints.push_back({"127.0.0.1", cluster.node((first + i) % cluster.size()).mqtt_port()});
    }
    o.client_id = std::move(id);
    o.keep_alive_s = 10;
    o.reconnect.initial_delay = 50ms;
    o.reconnect.max_delay = 1s;
    return o;
}

struct connections {
    unsigned count = 0;
    bool last_session_present = false;
    std::uint16_t port = 0;  // the broker of the latest connection
    std::string log;         // every event, for a failure's message
};

void record(connections& c, const char* who, const connection_event& e) {
    static constexpr const char* names[] = {"connected", "disconnected", "reconnecting"};
    c.log += std::string(who) + " " + names[static_cast<int>(e.state)] + " port " + std::to_string(e.broker.port) +
             (e.reason ? " (" + e.reason.message() + ")" : "") + (e.session_present ? " session present" : "") + "\n";
    if (e.state != connection_state::connected) return;
    ++c.count;
    c.last_session_present = e.session_present;
    c.port = e.broker.port;
}

// A QoS 1 round trip through each member with a throwaway client. JetStream answers
// /healthz before it can hold MQTT state: a session subscribing in the first second may
// be left without its JetStream consumer ("Unable to add JetStream consumer ...: server
// is not running") and then never gets messages after a move. After this, it can.
asio::awaitable<bool> mqtt_ready(test::nats_cluster& cluster) {
    auto ex = co_await asio::this_coro::executor;
    for (std::size_t i = 0; i < cluster.size(); ++i) {
        const std::string id = "warm-up-" + std::to_string(i);
        bool ok = false;
        for (int attempt = 0; attempt < 50 && !ok; ++attempt) {
            options o = cluster_options(cluster, i, id);
            client c(ex, o);
            auto got = std::make_shared<bool>(false);
            subscription echo(id, qos::at_least_once, [got](const message&) { *got = true; });
            if (co_await c.connect()) {
                co_await test::sleep_for(200ms);
                continue;
            }
            const subscribe_result s = co_await c.subscribe(std::move(echo));
            ok = !s.ec && !(co_await c.publish(id, "x", qos::at_least_once, wait::ack)) &&
                 co_await eventually([&] { return *got; }, 5s);
            (void)co_await c.disconnect();
        }
        if (!ok) co_return false;
    }
    co_return true;
}

// The lines of the members' logs that mention `what`, for a failure's message.
std::string broker_lines(test::nats_cluster& cluster, const std::string& what) {
    std::string out;
    for (std::size_t i = 0; i < cluster.size(); ++i) {
        std::ifstream in(cluster.node(i).dir() / "nats.log");
        for (std::string line; std::getline(in, line);) {
            if (line.find(what) != std::string::npos) out += "n" + std::to_string(i + 1) + ": " + line + "\n";
        }
    }
    return out;
}

TEST(Cluster, Qos1PublishingGoesOnWhileTheClientsNodeIsStopped) {
    const int rounds = from_env("TETHER_CLUSTER_ROUNDS", 1);
    const int per_round = from_env("TETHER_CLUSTER_MESSAGES", 200);
    test::nats_cluster cluster(3);

    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            options so = cluster_options(cluster, 0, "cluster-sub");
            so.clean_session = false;
            client sub(io.get_executor(), so);
            client pub(io.get_executor(), cluster_options(cluster, 0, "cluster-pub"));
            auto sub_conn = std::make_shared<connections>();
            auto pub_conn = std::make_shared<connections>();
            sub.on_connection_event([sub_conn](const connection_event& e) { record(*sub_conn, "sub", e); });
            pub.on_connection_event([pub_conn](const connection_event& e) { record(*pub_conn, "pub", e); });
            auto got = std::make_shared<std::set<std::string>>();
            auto copies = std::make_shared<std::size_t>(0);
            // Made before the co_await: GCC 12 destroys a braced temporary in a co_await
            // expression twice, and with it the captured pointers.
            subscription all("cluster/#", qos::at_least_once, [got, copies](const message& m) {
                got->emplace(m.text());
                ++*copies;
            });
            CO_ASSERT(co_await mqtt_ready(cluster));
            CO_ASSERT(!(co_await sub.connect()));
            const subscribe_result granted = co_await sub.subscribe(std::move(all));
            CO_ASSERT(!granted.ec);
            EXPECT_EQ(granted.granted, std::vector<std::uint8_t>{1});
            CO_ASSERT(!(co_await pub.connect()));

            int sent = 0;
            const auto publish_some = [&](int n) {
                for (int i = 0; i < n; ++i, ++sent) {
                    const auto ec = pub.publish_now("cluster/m", "m" + std::to_string(sent), qos::at_least_once);
                    EXPECT_FALSE(ec) << ec.message();
                }
            };
            for (int round = 0; round < rounds; ++round) {
                // The node the subscriber is on, found by the port of its connection.
                std::size_t victim = 0;
                for (std::size_t i = 0; i < cluster.size(); ++i) {
                    if (cluster.node(i).mqtt_port() == sub_conn->port) victim = i;
                }
                const unsigned before = sub_conn->count;
                publish_some(per_round / 2);
                CO_ASSERT(co_await eventually([&] { return got->size() >= static_cast<std::size_t>(sent) - per_round / 4; }, 30s));

                cluster.node(victim).stop();  // the io_context waits: the clients find out after
                publish_some(per_round - per_round / 2);

                const bool all_in = co_await eventually([&] { return got->size() == static_cast<std::size_t>(sent); }, 60s);
                if (!all_in) {
                    ADD_FAILURE() << "round " << round << ": " << got->size() << " of " << sent
                                  << " messages arrived; publisher in flight " << pub.in_flight() << ", queued "
                                  << pub.queued() << "; node " << victim << " stopped\n"
                                  << sub_conn->log << pub_conn->log << broker_lines(cluster, "cluster-");
                    co_return;
                }
                CO_ASSERT(co_await eventually([&] { return pub.in_flight() == 0 && pub.queued() == 0; }, 30s));
                EXPECT_GT(sub_conn->count, before) << "round " << round << ": the subscriber never moved";
                EXPECT_NE(sub_conn->port, cluster.node(victim).mqtt_port()) << "round " << round;
                EXPECT_TRUE(sub_conn->last_session_present)
                    << "round " << round << ": the persistent session was lost on the move";
                EXPECT_TRUE(pub.is_connected());

                cluster.node(victim).start(false);
                CO_ASSERT(cluster.wait_ready(60s));
            }
            EXPECT_EQ(got->size(), static_cast<std::size_t>(sent));
            EXPECT_GE(*copies, got->size());  // at least once; duplicates allowed
            std::cout << "[cluster] " << rounds << " node stops, " << sent << " messages, " << *copies
                      << " deliveries (" << (*copies - got->size()) << " duplicates), subscriber connections "
                      << sub_conn->count << ", publisher connections " << pub.stats().connections << "\n";
        },
        std::chrono::seconds(60 + 120 * rounds));
}

}  // namespace
}  // namespace tether::client
