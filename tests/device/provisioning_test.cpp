// Provisioning against a private mosquitto with TLS and the ACL of PROTOCOL.md §4, and a
// scripted cloud answering with cloud/provisioning's flow (PROTOCOL.md §3).

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include "coro_test.hpp"
#include "provisioning/topics.hpp"
#include "scripted_cloud.hpp"
#include "test_cloud.hpp"
#include "tether/device/device.hpp"
#include "tether/device/identity_files.hpp"

namespace tether::device {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using tether::test::run_coro;
namespace prov = tether::cloud::provisioning;
using test::client_scope;
using test::scripted_cloud;

std::string certificate_cn(const std::filesystem::path& file) {
    const std::string pem = test::read_text(file);
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (cert == nullptr) return "<unreadable>";
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    return cn;
}

device_options quick_options() {
    device_options o;
    o.retry_initial = 1ms;
    o.retry_max = 2ms;
    o.provisioning.reply_timeout = 10s;
    return o;
}

TEST(Provisioning, FirstStartProvisionsAndConnectsWithItsOwnIdentityAndTheSecondSkipsIt) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-41");
    scripted_cloud script(cloud);
    std::string first_cert;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client_scope scope{script.mqtt};
        CO_ASSERT(co_await script.start(io));
        device dev(io.get_executor(), kit, quick_options());
        const auto ec = co_await dev.start();
        CO_ASSERT(!ec);
        EXPECT_EQ(dev.id(), "sensor-41");
        EXPECT_EQ(dev.provisioned_count(), 1u);
        const auto c = load_configuration(kit);
        EXPECT_TRUE(c.provision.provisioned);
        EXPECT_EQ(certificate_cn(c.mqtt.cert.value), "sensor-41");
        EXPECT_EQ(test::mode_of(c.mqtt.key.value), 0600u);
        first_cert = c.mqtt.cert.value.string();
        // The broker's ACL keys on the CN: a Store write arrives only if the identity is its own.
        CO_ASSERT(!(co_await dev.set("cpu", 55.0, client::wait::ack)));
        CO_ASSERT(co_await tether::test::eventually([&] { return !script.store_sets.empty(); }));
        EXPECT_EQ(script.store_sets[0], "ioto/service/sensor-41/store/set");
        co_await dev.stop();

        device again(io.get_executor(), kit, quick_options());
        CO_ASSERT(!(co_await again.start()));
        EXPECT_EQ(again.provisioned_count(), 0u) << "the second start provisioned again";
        EXPECT_EQ(again.id(), "sensor-41");
        co_await again.stop();
        (void)co_await script.mqtt->disconnect();
    });
    EXPECT_EQ(load_configuration(kit).mqtt.cert.value.string(), first_cert);
}

// A kit without a serial number: the device makes one, saves it, and the thing is named
// after it; the saved serial is the one asked for.
TEST(Provisioning, AKitWithoutASerialNumberGetsARandomOneSavedOnce) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "unused");
    test::write_text(kit / "config" / "device.json5", "{ id: 'auto' }\n");
    scripted_cloud script(cloud);
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client_scope scope{script.mqtt};
        CO_ASSERT(co_await script.start(io));
        device dev(io.get_executor(), kit, quick_options());
        CO_ASSERT(!(co_await dev.start()));
        const auto c = load_configuration(kit);
        CO_ASSERT(c.device.serial_number.has_value());
        EXPECT_EQ(c.device.serial_number->size(), 16u);
        EXPECT_EQ(dev.id(), *c.device.serial_number);
        EXPECT_EQ(certificate_cn(c.mqtt.cert.value), *c.device.serial_number);
        co_await dev.stop();
        (void)co_await script.mqtt->disconnect();
    });
}

// A CSR with an RSA 1024 key: the cloud refuses it (InvalidCsr); the device reports the
// errorCode and tries again, each attempt with a fresh claim client id.
TEST(Provisioning, ARejectedCsrIsReportedWithTheErrorCodeAndRetried) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-42");
    scripted_cloud script(cloud);
    EVP_PKEY* weak = EVP_RSA_gen(1024);
    X509_REQ* req = X509_REQ_new();
    X509_REQ_set_pubkey(req, weak);
    X509_REQ_sign(req, weak, EVP_sha256());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_REQ(bio, req);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    auto options = quick_options();
    options.provisioning.csr_pem_override.assign(data, static_cast<std::size_t>(n));
    options.provisioning.key_pem_override = "unused";
    BIO_free(bio);
    X509_REQ_free(req);
    EVP_PKEY_free(weak);
    options.provision_attempts = 3;
    std::vector<provision_report> reports;
    options.on_provision = [&](const provision_report& r) { reports.push_back(r); };
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client_scope scope{script.mqtt};
        CO_ASSERT(co_await script.start(io));
        device dev(io.get_executor(), kit, options);
        EXPECT_EQ(co_await dev.start(), make_error_code(errc::provisioning_rejected));
        (void)co_await script.mqtt->disconnect();
    });
    ASSERT_EQ(reports.size(), 3u);
    for (const auto& r : reports) {
        EXPECT_EQ(r.ec, make_error_code(errc::provisioning_rejected));
        EXPECT_EQ(r.error_code, "InvalidCsr");
        EXPECT_NE(r.text().find("InvalidCsr"), std::string::npos) << r.text();
    }
    EXPECT_FALSE(load_configuration(kit).provision.provisioned);
}

TEST(Provisioning, SilenceIsATimeout) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-43");
    scripted_cloud script(cloud);
    script.silent = true;
    auto options = quick_options();
    options.provisioning.reply_timeout = 300ms;  // nothing ever answers: the outcome cannot depend on speed
    options.provision_attempts = 1;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client_scope scope{script.mqtt};
        CO_ASSERT(co_await script.start(io));
        device dev(io.get_executor(), kit, options);
        EXPECT_EQ(co_await dev.start(), make_error_code(errc::provisioning_timeout));
        (void)co_await script.mqtt->disconnect();
    });
}

// A second RegisterThing with a used token is refused, and the device reports the code.
TEST(Provisioning, AnOwnershipTokenUsedTwiceIsRefused) {
    test::test_cloud cloud;
    const auto first = cloud.dir.path / "first";
    const auto second = cloud.dir.path / "second";
    cloud.make_kit(first, "sensor-44");
    cloud.make_kit(second, "sensor-45");
    scripted_cloud script(cloud);
    script.reuse_first_token = true;
    auto options = quick_options();
    options.provision_attempts = 1;
    std::vector<provision_report> reports;
    options.on_provision = [&](const provision_report& r) { reports.push_back(r); };
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client_scope scope{script.mqtt};
        CO_ASSERT(co_await script.start(io));
        device one(io.get_executor(), first, options);
        CO_ASSERT(!(co_await one.start()));
        co_await one.stop();
        device two(io.get_executor(), second, options);
        EXPECT_EQ(co_await two.start(), make_error_code(errc::provisioning_rejected));
        (void)co_await script.mqtt->disconnect();
    });
    ASSERT_EQ(reports.size(), 2u);
    EXPECT_EQ(reports[1].error_code, "InvalidCertificateOwnershipToken");
}

TEST(Provisioning, AReleaseProvisionsAgainAndAStaleOneIsIgnored) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-46");
    scripted_cloud script(cloud);
    std::string first_cert;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client_scope scope{script.mqtt};
        CO_ASSERT(co_await script.start(io));
        device dev(io.get_executor(), kit, quick_options());
        CO_ASSERT(!(co_await dev.start()));
        first_cert = load_configuration(kit).mqtt.cert.value.string();

        // Stale (a minute old): ignored. The fence: a message published after it on the
        // same link reaches the device after the device has handled the release.
        bool fenced = false;
        CO_ASSERT(!(co_await dev.mqtt().subscribe({"ioto/device/sensor-46/fence", client::qos::at_least_once,
                                                  [&](const client::message&) { fenced = true; }})).ec);
        const auto stale = prov::release_message("sensor-46", std::chrono::system_clock::now() - 60s);
        CO_ASSERT(!(co_await script.mqtt->publish(stale.topic, stale.payload, client::qos::at_least_once)));
        CO_ASSERT(!(co_await script.mqtt->publish("ioto/device/sensor-46/fence", "1", client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return fenced; }));
        EXPECT_EQ(dev.provisioned_count(), 1u) << "a stale release was obeyed";

        // An operator releases the thing (its certificate is revoked, freeing the name for
        // a new key), and the cloud tells the device so.
        const auto released = cloud.service.release_thing("sensor-46", std::chrono::system_clock::now());
        CO_ASSERT(released && released->revoked.size() == 1);
        const auto& fresh = released->release;
        CO_ASSERT(!(co_await script.mqtt->publish(fresh.topic, fresh.payload, client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return dev.provisioned_count() == 2 && dev.mqtt().is_connected(); }));
        EXPECT_EQ(dev.id(), "sensor-46");
        EXPECT_NE(load_configuration(kit).mqtt.cert.value.string(), first_cert);
        co_await dev.stop();
        (void)co_await script.mqtt->disconnect();
    });
    EXPECT_FALSE(std::filesystem::exists(first_cert)) << "the released certificate was kept";
}

// While the device provisions again after a release (in the background: its start is
// under way), the application's start() returns already_connected and connects nothing:
// the device's own start brings it back, with the new identity.
TEST(Provisioning, StartWhileTheReleasesStartIsUnderWayIsAlreadyConnected) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-47");
    scripted_cloud script(cloud);
    auto options = quick_options();
    options.provisioning.reply_timeout = 60s;  // the reply comes when the test lets it go
    std::vector<client::connection_state> states;
    options.on_connection = [&](const client::connection_event& e) { states.push_back(e.state); };
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client_scope scope{script.mqtt};
        CO_ASSERT(co_await script.start(io));
        device dev(io.get_executor(), kit, options);
        CO_ASSERT(!(co_await dev.start()));
        const std::string first_cert = test::read_text(load_configuration(kit).mqtt.cert.value);

        // The release (the old certificate not yet revoked at the broker: it would still be
        // let in); the cloud holds the CSR, so the release's start waits for the reply.
        script.hold = true;
        const auto released = cloud.service.release_thing("sensor-47", std::chrono::system_clock::now());
        CO_ASSERT(released.has_value());
        CO_ASSERT(!(co_await script.mqtt->publish(released->release.topic, released->release.payload,
                                                  client::qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return script.csr_requests == 2; }));

        EXPECT_EQ(co_await dev.start(), make_error_code(client::errc::already_connected));
        EXPECT_FALSE(dev.mqtt().is_connected()) << "start() connected beside the release's start";
        const auto connected = [&] { return std::count(states.begin(), states.end(), client::connection_state::connected); };
        EXPECT_EQ(connected(), 1);

        co_await script.release_held();
        CO_ASSERT(co_await tether::test::eventually([&] { return dev.provisioned_count() == 2 && dev.mqtt().is_connected(); }));
        EXPECT_NE(test::read_text(load_configuration(kit).mqtt.cert.value), first_cert);
        EXPECT_EQ(connected(), 2);
        co_await dev.stop();
        (void)co_await script.mqtt->disconnect();
    });
}

}  // namespace
}  // namespace tether::device
