// How often a refused identity costs a provisioning round (docs/DEVICE.md "Revocation"): a
// refusal in a TLS 1.2 handshake is an alert anyone on the path can forge, so the device
// provisions again at most once per reconnect.max_delay however often it is refused; a
// release from the cloud (authenticated: its TLS session and the broker's ACL) is not held
// back by that pacing.
//
// The bounds are the ones a busy machine cannot break: the rounds are counted against the
// window the test measured (a slow machine makes fewer rounds in it, never more), and what
// must happen is waited for with limits far beyond what it takes.

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <chrono>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "coro_test.hpp"
#include "identity_refusal.hpp"
#include "scripted_cloud.hpp"
#include "test_cloud.hpp"
#include "tether/device/device.hpp"

namespace tether::device {
namespace {

using namespace std::chrono_literals;
using tether::test::run_coro;
using test::client_scope;
using test::paced;
using test::refused;
using test::scripted_cloud;
using test::take_over;
namespace fs = std::filesystem;

// Copies of the device's certificate and key, so that the test can ask the broker whether
// it refuses them while the device replaces its files.
struct identity_copy {
    fs::path cert, key;
};

identity_copy copy_identity(const fs::path& kit, const fs::path& to, const std::string& name) {
    const auto c = load_configuration(kit);
    identity_copy copy{to / (name + ".crt"), to / (name + ".key")};
    fs::copy_file(c.mqtt.cert.value, copy.cert);
    fs::copy_file(c.mqtt.key.value, copy.key);
    return copy;
}

// Revokes `thing` and waits until the broker refuses its certificate `old` and has cut the
// device's link: from then on, every attempt of the device is refused. Returns the moment
// the counting window opens (before the broker could refuse anything, so that every round
// counted afterwards starts inside it); nullopt if the staging failed.
// (`name` a C string: GCC 12 miscompiles a std::string made from a literal in a co_await.)
asio::awaitable<std::optional<std::chrono::steady_clock::time_point>> revoke_at_broker(test::test_cloud& cloud,
                                                                                       const char* name,
                                                                                       const identity_copy& old) {
    const std::string thing = name;
    const auto revoked = cloud.service.revoke_thing(thing, std::chrono::system_clock::now());
    if (revoked.revoked.size() != 1) co_return std::nullopt;
    const auto opened = std::chrono::steady_clock::now();
    cloud.publish_crl(revoked.crl_pem);
    if (!(co_await refused(cloud, old.cert, old.key))) co_return std::nullopt;
    if (co_await take_over(cloud, thing)) co_return std::nullopt;
    co_return opened;
}

// The started device `name` revoked at the broker (revoke_at_broker), and its first
// refusal-driven round over: most likely it waits out max_delay then, and what the tests
// assert holds wherever it is. Returns the counting window's opening; nullopt if the
// staging failed or no round came.
asio::awaitable<std::optional<std::chrono::steady_clock::time_point>> replacing_after_a_round(
    test::test_cloud& cloud, const fs::path& kit, const char* name, const std::vector<provision_report>& reports) {
    const std::size_t before = reports.size();
    const auto old = copy_identity(kit, cloud.dir.path, "old");
    const auto opened = co_await revoke_at_broker(cloud, name, old);
    if (!opened) co_return std::nullopt;
    auto first_round = [&] { return reports.size() > before; };
    if (!(co_await tether::test::eventually(first_round, 60s))) co_return std::nullopt;
    co_await tether::test::sleep_for(200ms);
    co_return opened;
}

// dev.start() spawned beside the test; what it returns lands in the result, shared with the
// completion, which may outlive the test's frame if an assertion ends it.
std::shared_ptr<std::optional<std::error_code>> start_beside(asio::io_context& io, device& dev) {
    auto result = std::make_shared<std::optional<std::error_code>>();
    asio::co_spawn(io, dev.start(), [result](std::exception_ptr, std::error_code ec) { *result = ec; });
    return result;
}

// Rounds paced at most one per max_delay: `seen` rounds since `opened` are at most
// window / max_delay + 1 (a slow machine makes fewer, never more).
void expect_paced(std::size_t seen, std::chrono::steady_clock::time_point opened, std::chrono::seconds max_delay) {
    const auto window = std::chrono::steady_clock::now() - opened;
    const auto bound = static_cast<std::size_t>(window / max_delay) + 1;
    EXPECT_LE(seen, bound) << seen << " provisioning rounds in "
                           << std::chrono::duration_cast<std::chrono::milliseconds>(window).count()
                           << " ms with reconnect.max_delay " << max_delay.count() << " s";
}

// Refused at every connection attempt (revoked; the cloud answers every provisioning round
// with DeviceRevoked), the device provisions again, and again after max_delay, but never
// more often than once per max_delay: in a window of W, at most W / max_delay + 1 rounds.
TEST(ReplacementPacing, ARefusalAtEveryAttemptCostsOneProvisioningRoundPerMaxDelay) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-91");
    scripted_cloud script(cloud);
    constexpr auto max_delay = 1s;
    std::vector<provision_report> reports;
    const device_options options = paced(max_delay, reports);
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            client_scope scope{script.mqtt};
            CO_ASSERT(co_await script.start(io));
            device dev(io.get_executor(), kit, options);
            CO_ASSERT(!(co_await dev.start()));
            CO_ASSERT(dev.provisioned_count() == 1);
            const auto old = copy_identity(kit, cloud.dir.path, "old");
            const std::size_t before = reports.size();  // the first provisioning's
            auto rounds = [&] { return reports.size() - before; };

            const auto window_opened = co_await revoke_at_broker(cloud, "sensor-91", old);
            CO_ASSERT(window_opened.has_value());
            const auto opened = *window_opened;

            // A second round after the first: the device does keep trying (the limit is
            // generous; it takes about max_delay).
            CO_ASSERT(co_await tether::test::eventually([&] { return rounds() >= 2; }, 60s));
            // Then some more time for rounds to pile up if nothing held them back: a few
            // max_delays, a window only long enough to see too many.
            co_await tether::test::sleep_for(3 * max_delay);
            expect_paced(rounds(), opened, max_delay);
            // Each of them a real round, refused by the cloud; the identity kept.
            for (std::size_t i = before; i < reports.size(); ++i) {
                EXPECT_EQ(reports[i].error_code, "DeviceRevoked") << reports[i].text();
            }
            EXPECT_EQ(dev.provisioned_count(), 1u);
            EXPECT_EQ(test::read_text(load_configuration(kit).mqtt.cert.value), test::read_text(old.cert));
            co_await dev.stop();
            (void)co_await script.mqtt->disconnect();
        },
        120s);
}

// Stopped and started again while refused (an application that restarts the device on
// errors): the pacing holds across it, and the new start() goes on replacing the identity
// until stopped. The background task that was waiting out max_delay ends with the stop
// instead of waking beside the new start() (it used to: a round at once, unpaced, and the
// new start() returning the refusal, its configuration loaded over by the old task).
TEST(ReplacementPacing, StoppedAndStartedAgainWhileRefusedTheDeviceKeepsThePacing) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-93");
    scripted_cloud script(cloud);
    constexpr auto max_delay = 1s;
    std::vector<provision_report> reports;
    const device_options options = paced(max_delay, reports);
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            client_scope scope{script.mqtt};
            CO_ASSERT(co_await script.start(io));
            device dev(io.get_executor(), kit, options);
            CO_ASSERT(!(co_await dev.start()));
            const std::size_t before = reports.size();
            auto rounds = [&] { return reports.size() - before; };
            const auto window_opened = co_await replacing_after_a_round(cloud, kit, "sensor-93", reports);
            CO_ASSERT(window_opened.has_value());
            const auto opened = *window_opened;

            // Stopped, and started again at once. This start() is refused too, and goes on
            // replacing the identity (it returns when stopped below).
            co_await dev.stop();
            const auto restarted = start_beside(io, dev);
            CO_ASSERT(co_await tether::test::eventually([&] { return rounds() >= 3; }, 60s));
            co_await tether::test::sleep_for(3 * max_delay);
            expect_paced(rounds(), opened, max_delay);
            EXPECT_EQ(dev.provisioned_count(), 1u);
            co_await dev.stop();
            CO_ASSERT(co_await tether::test::eventually([&] { return restarted->has_value(); }, 30s));
            EXPECT_EQ(**restarted, make_error_code(errc::stopped));
            (void)co_await script.mqtt->disconnect();
        },
        120s);
}

// start() called again while a background task replaces a refused identity (the device is
// started; its client idle between rounds): already_connected, as for any start() while
// started, and not a second loop beside the first, whose pacing wait it would cut short.
TEST(ReplacementPacing, AStartWhileTheDeviceReplacesARefusedIdentityIsRefusedAndThePacingHolds) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-94");
    scripted_cloud script(cloud);
    constexpr auto max_delay = 1s;
    std::vector<provision_report> reports;
    const device_options options = paced(max_delay, reports);
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            client_scope scope{script.mqtt};
            CO_ASSERT(co_await script.start(io));
            device dev(io.get_executor(), kit, options);
            CO_ASSERT(!(co_await dev.start()));
            const std::size_t before = reports.size();
            auto rounds = [&] { return reports.size() - before; };
            const auto window_opened = co_await replacing_after_a_round(cloud, kit, "sensor-94", reports);
            CO_ASSERT(window_opened.has_value());
            const auto opened = *window_opened;

            const auto again = start_beside(io, dev);
            const bool returned = co_await tether::test::eventually([&] { return again->has_value(); }, 30s);
            EXPECT_TRUE(returned) << "start() while the device replaces its identity did not return";
            if (returned) {
                EXPECT_EQ(**again, make_error_code(client::errc::already_connected));
            }
            CO_ASSERT(co_await tether::test::eventually([&] { return rounds() >= 3; }, 60s));
            co_await tether::test::sleep_for(3 * max_delay);
            expect_paced(rounds(), opened, max_delay);
            co_await dev.stop();
            (void)co_await script.mqtt->disconnect();
        },
        180s);
}

// A refusal-driven round has just happened (the device was refused, provisioned again and is
// back with a new identity); within max_delay of it, the cloud releases the device: the
// release provisions again at once instead of waiting out the pacing meant for refusals.
// max_delay is far beyond the wait's limit, so only a release held back can fail it.
TEST(ReplacementPacing, AReleaseIsNotHeldBackByARecentRefusalRound) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-92");
    scripted_cloud script(cloud);
    constexpr auto max_delay = 300s;
    constexpr auto limit = 60s;
    std::vector<provision_report> reports;
    const device_options options = paced(max_delay, reports);
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            client_scope scope{script.mqtt};
            CO_ASSERT(co_await script.start(io));
            device dev(io.get_executor(), kit, options);
            CO_ASSERT(!(co_await dev.start()));
            CO_ASSERT(dev.provisioned_count() == 1);
            const auto first = copy_identity(kit, cloud.dir.path, "first");

            // The thing is released at the cloud, but the device is not told: it learns it from
            // the broker's refusal (the first certificate is in the CRL), and its refusal-driven
            // round gets a new identity.
            const auto freed = cloud.service.release_thing("sensor-92", std::chrono::system_clock::now());
            CO_ASSERT(freed.has_value());
            cloud.publish_crl(freed->crl_pem);
            CO_ASSERT(co_await refused(cloud, first.cert, first.key));
            CO_ASSERT(!(co_await take_over(cloud, "sensor-92")));
            CO_ASSERT(co_await tether::test::eventually(
                [&] { return dev.provisioned_count() == 2 && dev.mqtt().is_connected(); }, limit));
            const auto second = copy_identity(kit, cloud.dir.path, "second");
            EXPECT_NE(test::read_text(second.cert), test::read_text(first.cert));

            // The cloud releases it again, and this time tells it so.
            const auto released = cloud.service.release_thing("sensor-92", std::chrono::system_clock::now());
            CO_ASSERT(released.has_value());
            cloud.publish_crl(released->crl_pem);
            CO_ASSERT(!(co_await script.mqtt->publish(released->release.topic, released->release.payload,
                                                      client::qos::at_least_once, client::wait::ack)));
            const bool provisioned = co_await tether::test::eventually(
                [&] { return dev.provisioned_count() == 3 && dev.mqtt().is_connected(); }, limit);
            EXPECT_TRUE(provisioned) << "the release was held back (provisioned " << dev.provisioned_count()
                                     << " times, max_delay " << max_delay.count() << " s)";
            if (provisioned) {
                EXPECT_NE(test::read_text(load_configuration(kit).mqtt.cert.value), test::read_text(second.cert));
                EXPECT_EQ(dev.id(), "sensor-92");
            }
            for (const auto& r : reports) EXPECT_FALSE(r.ec) << r.text();
            co_await dev.stop();
            (void)co_await script.mqtt->disconnect();
        },
        180s);
}

}  // namespace
}  // namespace tether::device
