// The device's Store and metrics (PROTOCOL.md §1, §2) against a real mosquitto and a
// scripted cloud that keeps a Store in a map and answers reads; and throttle.

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "broker.hpp"
#include "coro_test.hpp"
#include "scripted_store.hpp"
#include "test_files.hpp"
#include "tether/device/device.hpp"

namespace tether::device {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using tether::test::run_coro;
using test::scripted_store;
using test::write_device;

TEST(Store, SetThenGetEachType) {
    tether::test::mosquitto_broker broker;
    test::temp_dir t;
    write_device(t.path, broker.port());
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        // In the coroutine: its client must go before the io_context does.
        scripted_store cloud;
        CO_ASSERT(co_await cloud.start(io, broker.port()));
        device dev(io.get_executor(), t.path);
        CO_ASSERT(!(co_await dev.start()));
        EXPECT_EQ(dev.id(), "dev1");
        CO_ASSERT(!(co_await dev.set("name", std::string("Acme Rocket"))));
        CO_ASSERT(!(co_await dev.set("cpu", 55.0)));
        // wait::ack: acknowledged by the broker, which delivers to the cloud in order.
        CO_ASSERT(!(co_await dev.set("on", true, client::wait::ack)));
        CO_ASSERT(co_await tether::test::eventually([&] { return cloud.items.size() == 3; }));
        EXPECT_EQ(cloud.items["cpu"], json::parse(R"({"key":"cpu","value":55.0,"type":"number"})"));
        EXPECT_EQ(cloud.items["on"]["type"], "boolean");
        EXPECT_EQ(cloud.items["name"]["type"], "string");

        const auto name = co_await dev.get<std::string>("name");
        CO_ASSERT(name);
        EXPECT_EQ(*name.value, "Acme Rocket");
        const auto cpu = co_await dev.get<double>("cpu");
        CO_ASSERT(cpu);
        EXPECT_EQ(*cpu.value, 55.0);
        const auto on = co_await dev.get<bool>("on");
        CO_ASSERT(on);
        EXPECT_TRUE(*on.value);
        co_await dev.stop();
        (void)co_await cloud.mqtt->disconnect();
    });
}

// mqtt.persist: a Store write accepted while the broker is away is journaled; the device
// object is gone (as after a crash or a reboot) before it could be sent, and a new one
// made from the same directory sends it once the broker is back.
TEST(Store, AWriteAcceptedOfflineSurvivesTheDeviceWithPersist) {
    tether::test::mosquitto_broker broker;
    test::temp_dir t;
    std::filesystem::create_directories(t.path / "config");
    test::write_text(t.path / "config" / "ioto.json5",
                     "{ mqtt: { endpoint: 'mqtt://127.0.0.1:" + std::to_string(broker.port()) +
                         "', cert: 'certs/x.crt', key: 'certs/x.key', client: 'dev1', persist: 'state/outbox' } }");
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        {
            device dev(io.get_executor(), t.path);
            CO_ASSERT(!(co_await dev.start()));
            broker.stop(SIGKILL);
            CO_ASSERT(!(co_await dev.set("offline", std::string("kept"))));  // accepted: journaled
            co_await dev.stop();
        }
        EXPECT_TRUE(std::filesystem::exists(t.path / "state" / "outbox" / "dev1"));
        broker.start();
        scripted_store cloud;
        CO_ASSERT(co_await cloud.start(io, broker.port()));
        device again(io.get_executor(), t.path);
        CO_ASSERT(!(co_await again.start()));
        CO_ASSERT(co_await tether::test::eventually([&] { return cloud.items.contains("offline"); }, 30s));
        EXPECT_EQ(cloud.items["offline"]["value"], "kept");
        co_await again.stop();
        (void)co_await cloud.mqtt->disconnect();
    });
}

TEST(Store, NotFoundWrongTypeCloudErrorAndTimeout) {
    tether::test::mosquitto_broker broker;
    test::temp_dir t;
    write_device(t.path, broker.port());
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        // In the coroutine: its client must go before the io_context does.
        scripted_store cloud;
        CO_ASSERT(co_await cloud.start(io, broker.port()));
        device dev(io.get_executor(), t.path);
        CO_ASSERT(!(co_await dev.start()));
        CO_ASSERT(!(co_await dev.set("name", std::string("Acme"), client::wait::ack)));
        CO_ASSERT(co_await tether::test::eventually([&] { return cloud.items.size() == 1; }));

        EXPECT_EQ((co_await dev.get<std::string>("missing")).ec, make_error_code(errc::not_found));
        EXPECT_EQ((co_await dev.get<double>("name")).ec, make_error_code(errc::wrong_type));
        const auto broken = co_await dev.get<std::string>("broken");
        EXPECT_EQ(broken.ec, make_error_code(errc::cloud_error));
        EXPECT_EQ(broken.error_message, "storage failed");
        // Nobody answers "silent": the outcome is a timeout however slow the machine.
        EXPECT_EQ((co_await dev.get<std::string>("silent", 300ms)).ec, make_error_code(client::errc::timeout));
        co_await dev.stop();
        (void)co_await cloud.mqtt->disconnect();
    });
}

TEST(Store, MetricsSetAndGet) {
    tether::test::mosquitto_broker broker;
    test::temp_dir t;
    write_device(t.path, broker.port());
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        // In the coroutine: its client must go before the io_context does.
        scripted_store cloud;
        CO_ASSERT(co_await cloud.start(io, broker.port()));
        device dev(io.get_executor(), t.path);
        CO_ASSERT(!(co_await dev.start()));
        CO_ASSERT(!(co_await dev.set_metric("Temp", 21.5, nullptr, 10, client::wait::ack)));
        CO_ASSERT(co_await tether::test::eventually([&] { return cloud.metrics.size() == 1; }));
        EXPECT_EQ(cloud.metrics[0],
                  json::parse(R"({"metric":"Temp","value":21.5,"dimensions":[{"Device":"dev1"}],"buffer":{"elapsed":10}})"));
        EXPECT_EQ(co_await dev.set_metric("Temp", 1, json::object()), make_error_code(client::errc::invalid_argument));

        const auto avg = co_await dev.get_metric("CPU", nullptr, "max", 60);
        CO_ASSERT(avg);
        EXPECT_EQ(*avg.value, 42.5);
        CO_ASSERT(cloud.metric_reads.size() == 1);
        EXPECT_EQ(cloud.metric_reads[0],
                  json::parse(R"({"metric":"CPU","dimensions":{"Device":"dev1"},"period":60,"statistic":"max"})"));
        EXPECT_EQ((co_await dev.get_metric("CPU", nullptr, "median")).ec, make_error_code(client::errc::invalid_argument));
        co_await dev.stop();
        (void)co_await cloud.mqtt->disconnect();
    });
}

TEST(Store, ThrottleSlowsPublishingAndStaleThrottlesAreIgnored) {
    tether::test::mosquitto_broker broker;
    test::temp_dir t;
    write_device(t.path, broker.port());
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        // In the coroutine: its client must go before the io_context does.
        scripted_store cloud;
        CO_ASSERT(co_await cloud.start(io, broker.port()));
        device dev(io.get_executor(), t.path);
        CO_ASSERT(!(co_await dev.start()));
        bool fenced = false;
        CO_ASSERT(!(co_await dev.mqtt().subscribe({"ioto/device/dev1/fence", client::qos::at_least_once,
                                                  [&](const client::message&) { fenced = true; }})).ec);
        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
        const std::string stale = json{{"timestamp", now_ms - 60'000}, {"close", false}}.dump();
        const std::string fresh = json{{"timestamp", now_ms}, {"close", false}}.dump();
        CO_ASSERT(!(co_await cloud.mqtt->publish("ioto/device/dev1/mqtt/throttle", stale, client::qos::at_least_once)));
        CO_ASSERT(!(co_await cloud.mqtt->publish("ioto/device/dev1/mqtt/throttle", "not json", client::qos::at_least_once)));
        CO_ASSERT(!(co_await cloud.mqtt->publish("ioto/device/dev1/fence", "1", client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return fenced; }));
        EXPECT_EQ(dev.throttle_interval().count(), 0) << "a stale or malformed throttle was obeyed";
        CO_ASSERT(!(co_await cloud.mqtt->publish("ioto/device/dev1/mqtt/throttle", fresh, client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return dev.throttle_interval().count() > 0; }));
        const auto first = dev.throttle_interval();
        fenced = false;
        CO_ASSERT(!(co_await cloud.mqtt->publish("ioto/device/dev1/mqtt/throttle", fresh, client::qos::at_least_once)));
        CO_ASSERT(!(co_await cloud.mqtt->publish("ioto/device/dev1/fence", "1", client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return fenced; }));
        EXPECT_EQ(dev.throttle_interval(), first * 2) << "a second throttle backs off further";
        EXPECT_FALSE(dev.closed_by_cloud());
        co_await dev.stop();
        (void)co_await cloud.mqtt->disconnect();
    });
}

}  // namespace
}  // namespace tether::device
