// The device keeps one client for its whole life: after a throttle's stay-away and after
// each new identity (a release), the client that device::mqtt() returned is the one in
// use, with the application's subscriptions, and what earlier connections used is freed,
// so a device throttled or re-provisioned for years holds no more than on its first day.
//
// "Freed" is seen through message::source, the weak reference every message carries to the
// client's engine (one engine per set of options): those of earlier connections expire,
// the current one's does not.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "broker.hpp"
#include "coro_test.hpp"
#include "scripted_cloud.hpp"
#include "scripted_store.hpp"
#include "test_cloud.hpp"
#include "tether/device/device.hpp"

namespace tether::device {
namespace {

using namespace std::chrono_literals;
using tether::test::run_coro;
using engine_ref = std::weak_ptr<client::detail::engine>;

std::string close_body() {
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return nlohmann::json{{"timestamp", now_ms}, {"close", true}}.dump();
}

std::size_t alive(const std::vector<engine_ref>& refs) {
    return static_cast<std::size_t>(std::count_if(refs.begin(), refs.end(), [](const engine_ref& r) { return !r.expired(); }));
}

// How many different engines the references still reach.
std::size_t distinct_alive(const std::vector<engine_ref>& refs) {
    std::set<std::shared_ptr<client::detail::engine>> live;
    for (const auto& r : refs) {
        if (auto e = r.lock()) live.insert(std::move(e));
    }
    return live.size();
}

// Throttled with "close" again and again: each time the device stays away and comes back
// on the same client. The application's subscription, made once through mqtt(), hears a
// message on every connection; a publish through that first reference reaches the cloud;
// no engine of an earlier connection stays beside the current one.
TEST(OneClient, ThrottledAgainAndAgainTheDeviceKeepsOneClient) {
    tether::test::mosquitto_broker broker;
    test::temp_dir t;
    test::write_device(t.path, broker.port());
    unsigned connected = 0;
    device_options options;
    options.stay_away = 50ms;
    options.on_connection = [&](const client::connection_event& e) {
        if (e.state == client::connection_state::connected) ++connected;
    };
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        test::scripted_store cloud;
        CO_ASSERT(co_await cloud.start(io, broker.port()));
        device dev(io.get_executor(), t.path, options);
        CO_ASSERT(!(co_await dev.start()));
        client::client& mqtt = dev.mqtt();
        std::vector<engine_ref> sources;
        client::subscription probe("ioto/device/dev1/fence", client::qos::at_least_once,
                                   [&](const client::message& m) { sources.push_back(m.source); });
        CO_ASSERT(!(co_await mqtt.subscribe(std::move(probe))).ec);
        constexpr unsigned rounds = 5;
        for (unsigned i = 0; i < rounds; ++i) {
            CO_ASSERT(!(co_await cloud.mqtt->publish("ioto/device/dev1/fence", "1", client::qos::at_least_once)));
            // The application's subscription hears it on every connection.
            CO_ASSERT(co_await tether::test::eventually([&] { return sources.size() == i + 1; }));
            CO_ASSERT(!(co_await cloud.mqtt->publish("ioto/device/dev1/mqtt/throttle", close_body(),
                                                     client::qos::at_least_once)));
            CO_ASSERT(co_await tether::test::eventually(
                [&] { return connected == i + 2 && !dev.closed_by_cloud() && mqtt.is_connected(); }, 30s));
        }
        EXPECT_EQ(&dev.mqtt(), &mqtt);
        CO_ASSERT(!(co_await mqtt.publish("ioto/service/dev1/store/set", R"({"key":"k","value":7,"type":"number"})",
                                          client::qos::at_least_once, client::wait::ack)));
        CO_ASSERT(co_await tether::test::eventually([&] { return cloud.items.contains("k"); }));
        EXPECT_EQ(connected, rounds + 1);
        // The agent's throttle handler is in the client once, not once more per connection:
        // each copy would double the pacing interval (1 s, then 2 s, ...).
        const std::string pace = nlohmann::json{{"timestamp", nlohmann::json::parse(close_body())["timestamp"]}}.dump();
        CO_ASSERT(!(co_await cloud.mqtt->publish("ioto/device/dev1/mqtt/throttle", pace, client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return dev.throttle_interval().count() != 0; }));
        EXPECT_EQ(dev.throttle_interval(), 1000ms);

        // No engine piles up: the options are the same after each stay-away, so set_options()
        // keeps the one engine (and its session), and nothing else stays alive.
        const bool one = co_await tether::test::eventually([&] { return distinct_alive(sources) == 1; });
        EXPECT_TRUE(one) << distinct_alive(sources) << " engines of earlier connections are alive";
        // The probe sees a live engine: the current connection's.
        CO_ASSERT(!(co_await cloud.mqtt->publish("ioto/device/dev1/fence", "1", client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return sources.size() == rounds + 1; }));
        EXPECT_FALSE(sources.back().expired());
        co_await dev.stop();
        (void)co_await cloud.mqtt->disconnect();
    }, 120s);
}

// Released again and again: each time a new certificate (the old one revoked at the broker),
// on the same client. A publish through the reference taken before the first release
// reaches the cloud with the last identity, and the earlier engines are gone.
TEST(OneClient, ReprovisionedAgainAndAgainTheDeviceKeepsOneClient) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-83");
    test::scripted_cloud script(cloud);
    device_options options;
    options.retry_initial = 50ms;
    options.retry_max = 500ms;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        test::client_scope scope{script.mqtt};
        CO_ASSERT(co_await script.start(io));
        device dev(io.get_executor(), kit, options);
        CO_ASSERT(!(co_await dev.start()));
        client::client& mqtt = dev.mqtt();
        const std::string fence = "ioto/device/" + dev.id() + "/fence";
        std::vector<engine_ref> sources;
        client::subscription probe(fence, client::qos::at_least_once,
                                   [&](const client::message& m) { sources.push_back(m.source); });
        CO_ASSERT(!(co_await mqtt.subscribe(std::move(probe))).ec);
        std::vector<std::string> certificates{test::read_text(load_configuration(kit).mqtt.cert.value)};
        constexpr unsigned rounds = 3;
        for (unsigned i = 0; i < rounds; ++i) {
            CO_ASSERT(!(co_await script.mqtt->publish(fence, "1", client::qos::at_least_once)));
            CO_ASSERT(co_await tether::test::eventually([&] { return sources.size() == i + 1; }));
            const auto released = cloud.service.release_thing(dev.id(), std::chrono::system_clock::now());
            CO_ASSERT(released.has_value());
            cloud.publish_crl(released->crl_pem);
            CO_ASSERT(!(co_await script.mqtt->publish(released->release.topic, released->release.payload,
                                                      client::qos::at_least_once)));
            CO_ASSERT(co_await tether::test::eventually(
                [&] { return dev.provisioned_count() == i + 2 && mqtt.is_connected(); }, 60s));
            certificates.push_back(test::read_text(load_configuration(kit).mqtt.cert.value));
            EXPECT_NE(certificates.back(), certificates[certificates.size() - 2]);
        }
        EXPECT_EQ(&dev.mqtt(), &mqtt);
        const std::string store_topic = "ioto/service/" + dev.id() + "/store/set";
        CO_ASSERT(!(co_await mqtt.publish(store_topic, R"({"key":"k","value":7,"type":"number"})",
                                          client::qos::at_least_once, client::wait::ack)));
        CO_ASSERT(co_await tether::test::eventually([&] {
            return std::find(script.store_sets.begin(), script.store_sets.end(), store_topic) != script.store_sets.end();
        }));
        const bool freed = co_await tether::test::eventually([&] { return alive(sources) == 0; });
        EXPECT_TRUE(freed) << alive(sources) << " engines of earlier identities are still alive";
        CO_ASSERT(!(co_await script.mqtt->publish(fence, "1", client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return sources.size() == rounds + 1; }));
        EXPECT_FALSE(sources.back().expired());
        co_await dev.stop();
        (void)co_await script.mqtt->disconnect();
    }, 180s);
}

}  // namespace
}  // namespace tether::device
