// The service against a real mosquitto configured by `tether-cloud init`: a scripted
// device (a tether client with a certificate from the deployment's CA) writes and reads
// its Store through the broker; an unknown device and a malformed body are refused.
//
// Absence is checked without a clock: the service handles one connection's messages in
// order, so once a later message of the same device has been answered, the earlier ones
// have been handled.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "../../support/coro_test.hpp"
#include "service_fixture.hpp"

namespace tether::cloud::ingest {
namespace {

class IngestService : public test::engine_test {};

using namespace tether::cloud::test::broker_names;
using provisioning::test::identity;

TEST_P(IngestService, ADeviceWritesAndReadsItsStoreThroughTheBroker) {
    test::service_fixture fx(database_url());
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        test::running r(io, fx);
        CO_ASSERT(co_await r.start());
        CO_ASSERT(!(co_await r.device.publish("ioto/service/dev1/store/set", R"({"key":"cpu","value":55,"type":"number"})",
                                              qos::at_least_once, wait::ack)));
        const auto got = co_await r.device.request("ioto/service/dev1/store/get", R"({"key":"cpu"})",
                                                   "ioto/device/dev1/store/get", 10s);
        EXPECT_FALSE(got.ec) << got.ec.message();
        EXPECT_EQ(got.payload, "55");
        auto stored = fx.f.db->read_store("dev1", "cpu", 0);
        CO_ASSERT(stored && stored.value());
        EXPECT_EQ(stored.value()->value, 55);
        co_await r.stop();
    });
}

TEST_P(IngestService, AnUnknownDeviceAndAMalformedBodyAreRefused) {
    test::service_fixture fx(database_url());
    const identity ghost = fx.d.issue("ghost");
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        test::running r(io, fx);
        CO_ASSERT(co_await r.start());
        client::client intruder(io.get_executor(), fx.device_options("ghost", ghost));
        CO_ASSERT(!(co_await intruder.connect()));
        CO_ASSERT(!(co_await intruder.publish("ioto/service/ghost/store/set", R"({"key":"cpu","value":1,"type":"number"})",
                                              qos::at_least_once, wait::ack)));
        CO_ASSERT(!(co_await intruder.publish("ioto/service/ghost/store/get/1", R"({"key":"cpu"})",
                                              qos::at_least_once, wait::ack)));
        // The broker's PUBACK to the device says nothing about the service: wait until it
        // has handled both. The handler publishes a reply before it returns, so none
        // having been published then means none will be.
        CO_ASSERT(co_await tether::test::eventually([&] { return fx.f.h->stats().unknown_device == 2; }));
        EXPECT_EQ(r.s.mqtt().stats().messages_published, 0u);
        auto v = fx.f.db->read_store("ghost", "cpu", 0);
        CO_ASSERT(v);
        EXPECT_FALSE(v.value());

        CO_ASSERT(!(co_await r.device.publish("ioto/service/dev1/store/set", "{\"key\":", qos::at_least_once, wait::ack)));
        const auto got = co_await r.device.request("ioto/service/dev1/store/get", "[[[[[[[[[[[[1]]]]]]]]]]]]",
                                                   "ioto/device/dev1/store/get", 10s);
        EXPECT_FALSE(got.ec) << got.ec.message();
        EXPECT_EQ(nlohmann::json::parse(got.payload, nullptr, false).value("error", ""),
                  "body: nested deeper than 8 levels");
        EXPECT_EQ(fx.f.h->stats().malformed, 2u);  // answered in order: the set before the get
        (void)co_await intruder.disconnect();
        co_await r.stop();
    });
}

TEST_P(IngestService, TheBrokerTellsTheServiceWhenADeviceComesAndGoes) {
    test::service_fixture fx(database_url());
    auto online = [&]() -> std::optional<bool> {
        const auto r = fx.f.db->find_device("dev1");
        if (!r || !r.value()) return std::nullopt;
        return r.value()->online;
    };
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        // The service alone: this test connects the device itself, twice.
        service s(io.get_executor(), *fx.f.h, fx.service_options());
        CO_ASSERT(!(co_await s.start()));
        {
            client::client device(io.get_executor(), fx.device_options("dev1", fx.dev1));
            CO_ASSERT(!(co_await device.connect()));
            CO_ASSERT(co_await tether::test::eventually([&] { return online() == true; }, 30s));
            (void)co_await device.disconnect();
        }
        CO_ASSERT(co_await tether::test::eventually([&] { return online() == false; }, 30s));
        // A link closed without DISCONNECT counts too.
        {
            client::client device(io.get_executor(), fx.device_options("dev1", fx.dev1));
            CO_ASSERT(!(co_await device.connect()));
            CO_ASSERT(co_await tether::test::eventually([&] { return online() == true; }, 30s));
        }
        CO_ASSERT(co_await tether::test::eventually([&] { return online() == false; }, 30s));
        EXPECT_EQ(fx.f.h->stats().presence, 4u);
        (void)co_await s.stop();
    });
}

INSTANTIATE_TEST_SUITE_P(engines, IngestService, ::testing::Values(storage::engine::sqlite, storage::engine::postgresql),
                         test::engine_name);

}  // namespace
}  // namespace tether::cloud::ingest
