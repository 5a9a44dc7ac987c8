// The broker configuration init writes, enforced by a real mosquitto (PROTOCOL.md §4): a
// device publishes only under its own ioto/service/<id>/ and receives only its own
// ioto/device/<id>/ (and the fleet's), the claim identity can only provision, and a
// revoked certificate cannot connect.
//
// Absence is checked without waiting on a clock: after the forbidden messages the same
// publisher sends an allowed one (a fence) on the same connection; mosquitto handles a
// client's packets in order and delivers to a subscriber in order, so once the fence has
// arrived, a forbidden message that was going to arrive would have arrived.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "../../support/coro_test.hpp"
#include "deployment_fixture.hpp"
#include "provisioning/memory_registry.hpp"
#include "provisioning/provisioning_service.hpp"
#include "provisioning/atomic_file.hpp"
#include "tether/client/client.hpp"
#include "test_keys.hpp"

namespace tether::cloud::provisioning {
namespace {

using namespace tether::cloud::test::broker_names;
using test::deployment;
using test::identity;

identity claim_identity(const deployment& d) {
    return {(d.layout.kit_dir() / "certs" / "claim.crt").string(), (d.layout.kit_dir() / "certs" / "claim.key").string(),
            {}};
}

// Records the topics a client receives.
struct inbox {
    std::vector<std::string> topics;
    [[nodiscard]] bool has(const std::string& t) const {
        return std::find(topics.begin(), topics.end(), t) != topics.end();
    }
    client::subscription on(const std::string& filter) {
        return {filter, qos::at_least_once, [this](const client::message& m) { topics.emplace_back(m.topic); }};
    }
};

TEST(BrokerAcl, ADeviceDeliversOnlyIntoItsOwnServiceTopics) {
    deployment d;
    d.start_broker();
    const identity dev1 = d.issue("dev1");
    // Outside the coroutine: GCC 12 miscompiles braced lists of strings inside one.
    const std::vector<std::string> forbidden{"ioto/service/dev2/store/set", "ioto/device/dev2/store/get/1",
                                             "ioto/service/dev1x/store/set", "tether/provision/dev2/x", "other/topic"};
    const std::vector<std::string> expected{"$aws/rules/IotoDevice/ioto/service/dev1/metric/set",
                                            "ioto/service/dev1/store/set"};
    inbox got;
    std::vector<client::subscription> everything{got.on("ioto/#"), got.on("tether/#"), got.on("$aws/rules/#")};
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client::client service(io.get_executor(), tls_client(d, "tether-cloud", service_identity(d)));
        CO_ASSERT(!(co_await service.connect()));
        CO_ASSERT(!(co_await service.subscribe(everything)).ec);

        client::client device(io.get_executor(), tls_client(d, "dev1", dev1));
        CO_ASSERT(!(co_await device.connect()));
        for (const std::string& t : forbidden) {
            CO_ASSERT(!(co_await device.publish(t, "forged", qos::at_least_once, wait::ack)));
        }
        CO_ASSERT(!(co_await device.publish("$aws/rules/IotoDevice/ioto/service/dev1/metric/set", "{}",
                                            qos::at_least_once, wait::ack)));
        CO_ASSERT(!(co_await device.publish("ioto/service/dev1/store/set", "{}", qos::at_least_once, wait::ack)));
        CO_ASSERT(co_await tether::test::eventually([&] { return got.has("ioto/service/dev1/store/set"); }));
        EXPECT_EQ(got.topics, expected);
        (void)co_await device.disconnect();
        (void)co_await service.disconnect();
    });
}

TEST(BrokerAcl, ADeviceReceivesOnlyItsOwnDeviceTopicsAndTheFleets) {
    deployment d;
    d.start_broker();
    const identity dev1 = d.issue("dev1");
    inbox got;
    // mosquitto may grant these and then deliver nothing: delivery is what counts.
    std::vector<client::subscription> wanted{got.on("ioto/device/dev1/#"), got.on("ioto/device/dev2/#"),
                                             got.on("ioto/account/all/#"), got.on("ioto/service/#"),
                                             got.on("tether/provision/#")};
    const std::vector<std::string> sent{"ioto/device/dev2/store/get/1", "ioto/service/dev2/store/set",
                                        "tether/provision/dev1/x", "ioto/account/all/notice",
                                        "ioto/device/dev1/store/get/1"};
    // tether/provision/dev1/x: the provisioning pattern covers the client's own id.
    const std::vector<std::string> expected{"tether/provision/dev1/x", "ioto/account/all/notice",
                                            "ioto/device/dev1/store/get/1"};
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client::client device(io.get_executor(), tls_client(d, "dev1", dev1));
        CO_ASSERT(!(co_await device.connect()));
        (void)co_await device.subscribe(wanted);

        client::client service(io.get_executor(), tls_client(d, "tether-cloud", service_identity(d)));
        CO_ASSERT(!(co_await service.connect()));
        for (const std::string& t : sent) {
            CO_ASSERT(!(co_await service.publish(t, "\"v\"", qos::at_least_once, wait::ack)));
        }
        CO_ASSERT(co_await tether::test::eventually([&] { return got.has("ioto/device/dev1/store/get/1"); }));
        EXPECT_EQ(got.topics, expected);
        (void)co_await device.disconnect();
        (void)co_await service.disconnect();
    });
}

TEST(BrokerAcl, TheClaimIdentityCanOnlyProvision) {
    deployment d;
    d.start_broker();
    inbox at_service, at_claim;
    std::vector<client::subscription> everything{at_service.on("ioto/#"), at_service.on("tether/#"),
                                                 at_service.on("$aws/#")};
    std::vector<client::subscription> claim_wants{
        at_claim.on("tether/provision/claim-abc/#"), at_claim.on("tether/provision/claim-xyz/#"),
        at_claim.on("ioto/device/tether-claim/#"), at_claim.on("ioto/account/all/#"), at_claim.on("ioto/device/dev1/#")};
    const std::string own = "tether/provision/claim-abc/certificates/create-from-csr/json";
    const std::string reply = own + "/accepted";
    const std::vector<std::string> claim_sends{"ioto/service/tether-claim/store/set", "ioto/service/dev1/store/set",
                                               "$aws/rules/IotoDevice/ioto/service/tether-claim/store/set",
                                               "tether/provision/claim-xyz/certificates/create-from-csr/json", own};
    const std::vector<std::string> service_sends{"ioto/account/all/notice", "ioto/device/tether-claim/x",
                                                 "ioto/device/dev1/x",
                                                 "tether/provision/claim-xyz/certificates/create-from-csr/json/accepted",
                                                 reply};
    const std::vector<std::string> only_own{own}, only_reply{own, reply};  // its own request too: it subscribed to its own topics
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client::client service(io.get_executor(), tls_client(d, "tether-cloud", service_identity(d)));
        CO_ASSERT(!(co_await service.connect()));
        CO_ASSERT(!(co_await service.subscribe(everything)).ec);
        client::client claim(io.get_executor(), tls_client(d, "claim-abc", claim_identity(d)));
        CO_ASSERT(!(co_await claim.connect()));
        (void)co_await claim.subscribe(claim_wants);

        for (const std::string& t : claim_sends) {
            CO_ASSERT(!(co_await claim.publish(t, "{}", qos::at_least_once, wait::ack)));
        }
        CO_ASSERT(co_await tether::test::eventually([&] { return at_service.has(own); }));
        EXPECT_EQ(at_service.topics, only_own);

        for (const std::string& t : service_sends) {
            CO_ASSERT(!(co_await service.publish(t, "{}", qos::at_least_once, wait::ack)));
        }
        CO_ASSERT(co_await tether::test::eventually([&] { return at_claim.has(reply); }));
        EXPECT_EQ(at_claim.topics, only_reply);
        (void)co_await claim.disconnect();
        (void)co_await service.disconnect();
    });
}

// Provisions a device through the broker: the claim identity asks, a stand-in for the
// cloud answers with provisioning_service, and the device connects with what it got.
TEST(BrokerAcl, AProvisionedDeviceConnectsAndARevokedOneCannot) {
    deployment d;
    d.start_broker();
    memory_registry registry;
    provisioning_service service_logic(*d.ca, registry, {.endpoint = "localhost", .port = d.port});
    auto device_key = test::ec_key("P-256");
    const std::string csr = test::make_csr(*device_key);
    identity provisioned{(d.folder.path / "device.crt").string(), (d.folder.path / "device.key").string(), {}};
    test::write_text(provisioned.key_file, private_key_pem(*device_key));

    // The cloud's stand-in answers each request on its topic; built outside the coroutine
    // (GCC 12 miscompiles braced lists inside one).
    client::client* cloud = nullptr;
    auto answer = [&](const client::message& m) -> asio::awaitable<void> {
        if (auto r = service_logic.handle(m.topic, m.text(), std::chrono::system_clock::now())) {
            (void)co_await cloud->publish(r->topic, r->payload, qos::at_least_once, wait::ack);
        }
    };
    std::vector<client::subscription> requests{{create_from_csr_filter, qos::at_least_once, answer},
                                               {register_thing_filter, qos::at_least_once, answer}};
    const std::string root = "tether/provision/claim-1";
    const std::string csr_topic = root + "/certificates/create-from-csr/json";
    const std::string register_topic = root + "/provisioning-templates/default/provision/json";
    std::string created, registered;
    std::vector<client::subscription> replies{
        {csr_topic + "/accepted", qos::at_least_once, [&](const client::message& m) { created = std::string(m.text()); }},
        {register_topic + "/accepted", qos::at_least_once,
         [&](const client::message& m) { registered = std::string(m.text()); }}};
    const std::string csr_request = nlohmann::json{{"certificateSigningRequest", csr}}.dump();

    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client::client service(io.get_executor(), tls_client(d, "tether-cloud", service_identity(d)));
        cloud = &service;
        CO_ASSERT(!(co_await service.connect()));
        CO_ASSERT(!(co_await service.subscribe(requests)).ec);

        client::client claim(io.get_executor(), tls_client(d, "claim-1", claim_identity(d)));
        CO_ASSERT(!(co_await claim.connect()));
        CO_ASSERT(!(co_await claim.subscribe(replies)).ec);
        CO_ASSERT(!(co_await claim.publish(csr_topic, csr_request, qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return !created.empty(); }));
        const auto token = nlohmann::json::parse(created)["certificateOwnershipToken"].get<std::string>();
        nlohmann::json register_request;
        register_request["certificateOwnershipToken"] = token;
        register_request["parameters"]["SerialNumber"] = "dev-7";
        CO_ASSERT(!(co_await claim.publish(register_topic, register_request.dump(), qos::at_least_once)));
        CO_ASSERT(co_await tether::test::eventually([&] { return !registered.empty(); }));
        const auto config = nlohmann::json::parse(registered)["deviceConfiguration"];
        EXPECT_EQ(config["port"], std::to_string(d.port));
        test::write_text(provisioned.cert_file, config["certificatePem"].get<std::string>());
        (void)co_await claim.disconnect();

        client::client device(io.get_executor(), tls_client(d, "dev-7", provisioned));
        CO_ASSERT(!(co_await device.connect()));
        (void)co_await device.disconnect();
        (void)co_await service.disconnect();
    });

    // Revoke it; the broker reads the new CRL when it starts.
    const auto revoked = service_logic.revoke_thing("dev-7", std::chrono::system_clock::now());
    ASSERT_EQ(revoked.revoked.size(), 1u);
    write_file_atomically(d.layout.crl(), revoked.crl_pem,
                          std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                              std::filesystem::perms::group_read | std::filesystem::perms::others_read);
    d.stop_broker();
    d.start_broker();
    const identity other = d.issue("dev-8");
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client::client refused(io.get_executor(), tls_client(d, "dev-7", provisioned));
        const auto ec = co_await refused.connect();
        EXPECT_TRUE(ec) << "a revoked certificate connected";
        EXPECT_FALSE(refused.is_connected());
        client::client allowed(io.get_executor(), tls_client(d, "dev-8", other));
        EXPECT_FALSE(co_await allowed.connect()) << "a certificate that is not revoked was refused";
        (void)co_await allowed.disconnect();
    });
}

}  // namespace
}  // namespace tether::cloud::provisioning
