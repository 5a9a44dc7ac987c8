// A device whose certificate the cloud revoked: the broker refuses it at its next
// connection, and the device tells that apart from a network failure: it forgets the
// identity and provisions again with its claim certificate. The cloud refuses a revoked
// thing (DeviceRevoked), which the device reports and retries with backoff, until an
// operator releases it (PROTOCOL.md §3, docs/DEVICE.md "Revocation").

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <asio/ssl/error.hpp>
#include <filesystem>

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
using test::refused;
using test::scripted_cloud;
using test::take_over;
namespace fs = std::filesystem;

bool is_revoked_alert(const std::error_code& ec) {
    return ec.category() == asio::error::get_ssl_category() &&
           ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED;
}

class Revocation : public ::testing::TestWithParam<std::string> {};

TEST_P(Revocation, ARevokedCertificateIsRefusedTheDeviceProvisionsIsRefusedUntilReleasedThenConnects) {
    test::test_cloud cloud(GetParam());
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-61");
    scripted_cloud script(cloud);
    std::vector<provision_report> reports;
    device_options options = test::paced(100ms, reports);
    std::vector<std::error_code> refusals;  // the connection events' reasons that said "revoked"
    options.on_connection = [&](const client::connection_event& e) {
        if (is_revoked_alert(e.reason)) refusals.push_back(e.reason);
    };
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            client_scope scope{script.mqtt};
            CO_ASSERT(co_await script.start(io));
            device dev(io.get_executor(), kit, options);
            CO_ASSERT(!(co_await dev.start()));
            CO_ASSERT(dev.provisioned_count() == 1);
            const auto first = load_configuration(kit);
            const auto old_cert = cloud.dir.path / "old.crt", old_key = cloud.dir.path / "old.key";
            fs::copy_file(first.mqtt.cert.value, old_cert);
            fs::copy_file(first.mqtt.key.value, old_key);

            // The cloud revokes the thing; the broker reads the new CRL; the device's open
            // connection is closed, so that it comes back through a handshake.
            const auto revoked = cloud.service.revoke_thing("sensor-61", std::chrono::system_clock::now());
            CO_ASSERT(revoked.revoked.size() == 1);
            cloud.publish_crl(revoked.crl_pem);
            CO_ASSERT(co_await refused(cloud, old_cert, old_key));
            CO_ASSERT(!(co_await take_over(cloud, "sensor-61")));

            // Refused as revoked (not a network failure), it provisions again: the cloud
            // says DeviceRevoked, which is reported, and retried.
            CO_ASSERT(co_await tether::test::eventually(
                [&] {
                    return std::count_if(reports.begin(), reports.end(), [](const provision_report& r) {
                               return r.error_code == "DeviceRevoked";
                           }) >= 2;
                },
                60s));
            EXPECT_FALSE(refusals.empty()) << "the broker's refusal was not seen as a revoked certificate";
            for (const auto& r : reports) {
                if (r.ec) {
                    EXPECT_EQ(r.ec, make_error_code(errc::provisioning_rejected));
                    EXPECT_EQ(r.error_code, "DeviceRevoked") << r.text();
                    EXPECT_NE(r.text().find("DeviceRevoked"), std::string::npos) << r.text();
                }
            }
            EXPECT_EQ(dev.provisioned_count(), 1u);
            // Kept until a new identity is saved over it: a refusal may be forged (TLS 1.2).
            EXPECT_TRUE(load_configuration(kit).provision.provisioned) << "the refused identity was forgotten";
            EXPECT_EQ(test::read_text(load_configuration(kit).mqtt.cert.value), test::read_text(old_cert));

            // An operator releases it: the next attempt gets a new certificate, and the device
            // connects with it.
            const auto released = cloud.service.release_thing("sensor-61", std::chrono::system_clock::now());
            CO_ASSERT(released.has_value());
            CO_ASSERT(co_await tether::test::eventually(
                [&] { return dev.provisioned_count() == 2 && dev.mqtt().is_connected(); }, 60s));
            EXPECT_EQ(dev.id(), "sensor-61");
            const auto second = load_configuration(kit);
            EXPECT_NE(test::read_text(second.mqtt.cert.value), test::read_text(old_cert));
            CO_ASSERT(!(co_await dev.set("cpu", 1.0, client::wait::ack)));
            CO_ASSERT(co_await tether::test::eventually([&] { return !script.store_sets.empty(); }));
            // The old certificate stays refused.
            EXPECT_TRUE(co_await refused(cloud, old_cert, old_key, 1));
            co_await dev.stop();
            (void)co_await script.mqtt->disconnect();
        },
        120s);
}

// A refusal the broker stops making (what a forged TLS 1.2 alert looks like to the device:
// the cloud never revoked anything it knows of... here, the broker's CRL is put back): it
// costs a provisioning round, never the identity. The device keeps its files, tries to
// provision (refused here: DeviceRevoked), connects with what is on disk again, and is in
// with its old identity as soon as the broker takes it.
TEST(Revocation, ARefusalThatStopsCostsAProvisioningRoundNeverTheIdentity) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-63");
    scripted_cloud script(cloud);
    std::vector<provision_report> reports;
    device_options options = test::paced(100ms, reports);
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            client_scope scope{script.mqtt};
            CO_ASSERT(co_await script.start(io));
            device dev(io.get_executor(), kit, options);
            CO_ASSERT(!(co_await dev.start()));
            const auto first = load_configuration(kit);
            const std::string cert = test::read_text(first.mqtt.cert.value);
            const auto old_cert = cloud.dir.path / "old.crt", old_key = cloud.dir.path / "old.key";
            fs::copy_file(first.mqtt.cert.value, old_cert);
            fs::copy_file(first.mqtt.key.value, old_key);
            const std::string clean_crl = cloud.service.current_crl(std::chrono::system_clock::now());

            const auto revoked = cloud.service.revoke_thing("sensor-63", std::chrono::system_clock::now());
            CO_ASSERT(revoked.revoked.size() == 1);
            cloud.publish_crl(revoked.crl_pem);
            CO_ASSERT(co_await refused(cloud, old_cert, old_key));
            CO_ASSERT(!(co_await take_over(cloud, "sensor-63")));
            CO_ASSERT(co_await tether::test::eventually(
                [&] {
                    return std::any_of(reports.begin(), reports.end(),
                                       [](const provision_report& r) { return r.error_code == "DeviceRevoked"; });
                },
                60s));
            EXPECT_TRUE(load_configuration(kit).provision.provisioned);
            EXPECT_EQ(test::read_text(load_configuration(kit).mqtt.cert.value), cert);

            // The refusals stop: the device is back with the identity it had.
            cloud.publish_crl(clean_crl);
            CO_ASSERT(co_await tether::test::eventually([&] { return dev.mqtt().is_connected(); }, 60s));
            EXPECT_EQ(dev.provisioned_count(), 1u);
            EXPECT_EQ(dev.id(), "sensor-63");
            EXPECT_EQ(test::read_text(load_configuration(kit).mqtt.cert.value), cert);
            CO_ASSERT(!(co_await dev.set("cpu", 1.0, client::wait::ack)));
            CO_ASSERT(co_await tether::test::eventually([&] { return !script.store_sets.empty(); }));
            co_await dev.stop();
            (void)co_await script.mqtt->disconnect();
        },
        120s);
}

INSTANTIATE_TEST_SUITE_P(Tls, Revocation, ::testing::Values("tlsv1.2", "tlsv1.3"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param == "tlsv1.2" ? "Tls12" : "Tls13"; });

// A broker that goes away is a network failure, not a refusal: the device keeps its
// identity and reconnects with it when the broker is back.
TEST(Revocation, ABrokerThatGoesAwayIsNotARefusal) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-62");
    scripted_cloud script(cloud);
    device_options options;
    options.reconnect.initial_delay = 10ms;
    options.reconnect.max_delay = 100ms;
    unsigned failures = 0;
    options.on_connection = [&](const client::connection_event& e) {
        if (e.state == client::connection_state::reconnecting && e.reason) ++failures;
    };
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            CO_ASSERT(co_await script.start(io));
            device dev(io.get_executor(), kit, options);
            CO_ASSERT(!(co_await dev.start()));
            script.mqtt.reset();
            const std::string cert = test::read_text(load_configuration(kit).mqtt.cert.value);
            cloud.stop_broker();
            CO_ASSERT(co_await tether::test::eventually([&] { return failures >= 3; }, 30s));
            cloud.start_broker();
            CO_ASSERT(co_await tether::test::eventually([&] { return dev.mqtt().is_connected(); }, 30s));
            EXPECT_EQ(dev.provisioned_count(), 1u);
            EXPECT_EQ(test::read_text(load_configuration(kit).mqtt.cert.value), cert);
            co_await dev.stop();
        },
        90s);
}

}  // namespace
}  // namespace tether::device
