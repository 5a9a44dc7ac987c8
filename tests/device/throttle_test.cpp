// The throttle with "close": true (PROTOCOL.md §2): the device disconnects and stays away
// (an hour by default), then connects again; a stale or malformed close is ignored.
// Against a real mosquitto and the scripted Store cloud.

#include <gtest/gtest.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "broker.hpp"
#include "coro_test.hpp"
#include "scripted_store.hpp"
#include "tether/device/device.hpp"

namespace tether::device {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::scripted_store;
using test::write_device;
using tether::test::run_coro;

std::string close_body(std::chrono::milliseconds age, const json& close = true) {
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return json{{"timestamp", now_ms - age.count()}, {"close", close}}.dump();
}

struct event_log {
    std::vector<client::connection_state> states;
    [[nodiscard]] std::size_t count(client::connection_state s) const {
        return static_cast<std::size_t>(std::count(states.begin(), states.end(), s));
    }
};

// Stale, malformed, and a close that is not `true`: the device stays connected. A fresh
// close: it disconnects and does not try again (within the hour); Store writes fail with
// not_connected meanwhile; destroying it then is fine.
TEST(Throttle, CloseDisconnectsAndStaysAwayAndABadOneIsIgnored) {
    tether::test::mosquitto_broker broker;
    test::temp_dir t;
    write_device(t.path, broker.port());
    event_log events;
    device_options options;
    options.on_connection = [&](const client::connection_event& e) { events.states.push_back(e.state); };
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_store cloud;
        CO_ASSERT(co_await cloud.start(io, broker.port()));
        auto dev = std::make_unique<device>(io.get_executor(), t.path, options);
        CO_ASSERT(!(co_await dev->start()));
        bool fenced = false;
        CO_ASSERT(!(co_await dev->mqtt().subscribe({"ioto/device/dev1/fence", client::qos::at_least_once,
                                                   [&](const client::message&) { fenced = true; }})).ec);
        const std::string topic = "ioto/device/dev1/mqtt/throttle";
        for (const std::string& ignored : {close_body(60s), close_body(0ms, "true"), close_body(0ms, 1),
                                           std::string(R"({"close":true})"), std::string("[true]")}) {
            CO_ASSERT(!(co_await cloud.mqtt->publish(topic, ignored, client::qos::at_least_once)));
        }
        // The fence: published after them on the same link, it arrives after they were handled.
        CO_ASSERT(!(co_await cloud.mqtt->publish("ioto/device/dev1/fence", "1", client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return fenced; }));
        EXPECT_FALSE(dev->closed_by_cloud()) << "a stale or malformed close was obeyed";
        EXPECT_TRUE(dev->mqtt().is_connected());

        CO_ASSERT(!(co_await cloud.mqtt->publish(topic, close_body(0ms), client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually(
            [&] { return dev->closed_by_cloud() && events.count(client::connection_state::disconnected) == 1; }));
        EXPECT_FALSE(dev->mqtt().is_connected());
        EXPECT_EQ(events.count(client::connection_state::reconnecting), 0u) << "it did not stay away";
        EXPECT_EQ(events.count(client::connection_state::connected), 1u) << "it did not stay away";
        EXPECT_EQ(co_await dev->set("cpu", 1.0), make_error_code(client::errc::not_connected));
        dev.reset();  // while it stays away
        (void)co_await cloud.mqtt->disconnect();
    });
}

// After the stay-away (shortened here), the device connects again with its subscriptions:
// a Store write reaches the cloud, a command reaches the device.
TEST(Throttle, AfterStayingAwayTheDeviceComesBack) {
    tether::test::mosquitto_broker broker;
    test::temp_dir t;
    write_device(t.path, broker.port());
    event_log events;
    device_options options;
    options.stay_away = 200ms;
    options.on_connection = [&](const client::connection_event& e) { events.states.push_back(e.state); };
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_store cloud;
        CO_ASSERT(co_await cloud.start(io, broker.port()));
        device dev(io.get_executor(), t.path, options);
        CO_ASSERT(!(co_await dev.start()));
        CO_ASSERT(!(co_await cloud.mqtt->publish("ioto/device/dev1/mqtt/throttle", close_body(0ms),
                                                 client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return dev.closed_by_cloud(); }));
        CO_ASSERT(co_await tether::test::eventually(
            [&] { return !dev.closed_by_cloud() && dev.mqtt().is_connected(); }, 30s));
        EXPECT_EQ(events.count(client::connection_state::connected), 2u);
        CO_ASSERT(!(co_await dev.set("model", std::string("Acme Rocket"), client::wait::ack)));
        CO_ASSERT(co_await tether::test::eventually([&] { return cloud.items.contains("model"); }));
        // The master subscription is back: a reply to a read arrives.
        const auto model = co_await dev.get<std::string>("model");
        CO_ASSERT(!model.ec);
        EXPECT_EQ(*model.value, "Acme Rocket");
        co_await dev.stop();
        (void)co_await cloud.mqtt->disconnect();
    }, 60s);
}

// While the device stays away, start() says already_connected and leaves it away: the cloud
// said close. The application may still connect the client itself (mqtt()); when the
// stay-away ends, its start finds the client connected and ends there, instead of trying
// again for as long as the device runs. So the application's disconnect() afterwards
// holds, and the device is not started any more: start() connects it, once.
TEST(Throttle, StartWhileAwayIsAlreadyConnectedAndTheStayAwaysStartEndsOnAConnectedClient) {
    tether::test::mosquitto_broker broker;
    test::temp_dir t;
    write_device(t.path, broker.port());
    event_log events;
    device_options options;
    options.stay_away = 5s;  // the start() below comes well within it
    // A start trying again would be at it at once, and a start() of the application's
    // refused meanwhile.
    options.reconnect.initial_delay = 10ms;
    options.reconnect.max_delay = 50ms;
    options.on_connection = [&](const client::connection_event& e) { events.states.push_back(e.state); };
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_store cloud;
        CO_ASSERT(co_await cloud.start(io, broker.port()));
        device dev(io.get_executor(), t.path, options);
        CO_ASSERT(!(co_await dev.start()));
        CO_ASSERT(!(co_await cloud.mqtt->publish("ioto/device/dev1/mqtt/throttle", close_body(0ms),
                                                 client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually(
            [&] { return dev.closed_by_cloud() && events.count(client::connection_state::disconnected) == 1; }));

        EXPECT_EQ(co_await dev.start(), make_error_code(client::errc::already_connected));
        EXPECT_TRUE(dev.closed_by_cloud());
        EXPECT_FALSE(dev.mqtt().is_connected()) << "start() connected while the cloud's close was in force";
        EXPECT_EQ(events.count(client::connection_state::connected), 1u);

        // The application's own connection, on the client it holds.
        CO_ASSERT(!(co_await dev.mqtt().connect()));
        CO_ASSERT(co_await tether::test::eventually([&] { return !dev.closed_by_cloud(); }, 30s));
        CO_ASSERT(!(co_await dev.mqtt().disconnect()));
        // No start is under way any more (one would keep start() refused), and nothing
        // connected the client behind the application's back.
        std::error_code started = make_error_code(client::errc::already_connected);
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (started == client::errc::already_connected && std::chrono::steady_clock::now() < deadline) {
            EXPECT_FALSE(dev.mqtt().is_connected()) << "a start left running connected the client again";
            started = co_await dev.start();
            if (started == client::errc::already_connected) co_await tether::test::sleep_for(10ms);
        }
        EXPECT_FALSE(started) << started.message();
        EXPECT_TRUE(dev.mqtt().is_connected());
        // The first start, the application's connect(), and this start.
        EXPECT_EQ(events.count(client::connection_state::connected), 3u);
        CO_ASSERT(!(co_await dev.set("model", std::string("Acme Rocket"), client::wait::ack)));
        const auto model = co_await dev.get<std::string>("model");
        CO_ASSERT(!model.ec);
        EXPECT_EQ(*model.value, "Acme Rocket");
        co_await dev.stop();
        (void)co_await cloud.mqtt->disconnect();
    }, 60s);
}

}  // namespace
}  // namespace tether::device
