// The device object may be destroyed at any moment, also while a task it started in the
// background runs (provisioning again after a release, a revoked certificate or the
// throttle's stay-away): the task must not touch the object afterwards. Under ASan a
// use after free fails these tests.

#include <gtest/gtest.h>

#include <memory>

#include "coro_test.hpp"
#include "provisioning/topics.hpp"
#include "scripted_cloud.hpp"
#include "test_cloud.hpp"
#include "tether/device/device.hpp"

namespace tether::device {
namespace {

using namespace std::chrono_literals;
using tether::test::run_coro;
using test::client_scope;
using test::scripted_cloud;

TEST(Lifetime, DestroyingTheDeviceWhileItsReleaseTaskProvisionsIsSafe) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-71");
    scripted_cloud script(cloud);
    std::vector<provision_report> reports;
    device_options options;
    options.provisioning.reply_timeout = 60s;  // the reply comes when the test lets it go
    options.on_provision = [&](const provision_report& r) { reports.push_back(r); };
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client_scope scope{script.mqtt};
        CO_ASSERT(co_await script.start(io));
        auto dev = std::make_unique<device>(io.get_executor(), kit, options);
        CO_ASSERT(!(co_await dev->start()));
        CO_ASSERT(script.csr_requests == 1);
        const std::string first_cert = test::read_text(load_configuration(kit).mqtt.cert.value);

        // The operator's release: the device forgets its identity and provisions again; the
        // cloud holds its CSR, so the release task waits for the reply...
        script.hold = true;
        const auto released = cloud.service.release_thing("sensor-71", std::chrono::system_clock::now());
        CO_ASSERT(released.has_value());
        CO_ASSERT(!(co_await script.mqtt->publish(released->release.topic, released->release.payload,
                                                  client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return script.csr_requests == 2; }));

        // ...when the device is destroyed. Then the reply comes, and the task goes on.
        dev.reset();
        co_await script.release_held();
        // Saved over the old identity, which was kept until then.
        CO_ASSERT(co_await tether::test::eventually(
            [&] { return test::read_text(load_configuration(kit).mqtt.cert.value) != first_cert; }));
        EXPECT_EQ(reports.size(), 1u) << "a device destroyed still reported to its owner";
        (void)co_await script.mqtt->disconnect();
    });
}

}  // namespace
}  // namespace tether::device
