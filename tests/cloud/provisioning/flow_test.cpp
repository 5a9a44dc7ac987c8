// The provisioning flow (PROTOCOL.md §3) as request -> reply, on a manual clock:
// CreateCertificateFromCsr, RegisterThing, one-use expiring tokens, thing-name
// collisions, revocation and release.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "provisioning/keys.hpp"
#include "provisioning/memory_registry.hpp"
#include "provisioning/provisioning_service.hpp"
#include "provisioning/verify.hpp"
#include "test_keys.hpp"

namespace tether::cloud::provisioning {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::ec_key;
using test::make_csr;

const time_point t0 = std::chrono::sys_days(std::chrono::year(2026) / 11 / 26);
const std::string csr_topic = "tether/provision/claim-1/certificates/create-from-csr/json";
const std::string register_topic = "tether/provision/claim-1/provisioning-templates/default/provision/json";

std::string cn_of(const std::string& pem) {
    auto cert = read_certificate(pem);
    char buf[128] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, buf, sizeof buf);
    return buf;
}

struct flow : ::testing::Test {
    certificate_authority ca = certificate_authority::create("test CA", t0);
    memory_registry registry;
    provisioning_service service{ca, registry, {.endpoint = "mqtt.example.com", .port = 8883}};

    json create(const std::string& csr, time_point now = t0, bool expect_accepted = true) {
        const auto r = service.handle(csr_topic, json{{"certificateSigningRequest", csr}}.dump(), now);
        EXPECT_TRUE(r);
        if (!r) return {};
        EXPECT_EQ(r->accepted, expect_accepted) << r->payload;
        EXPECT_EQ(r->topic, csr_topic + (expect_accepted ? "/accepted" : "/rejected"));
        return json::parse(r->payload);
    }

    reply register_thing(const std::string& token, const std::string& serial, time_point now = t0) {
        const auto r = service.handle(
            register_topic, json{{"certificateOwnershipToken", token}, {"parameters", {{"SerialNumber", serial}}}}.dump(),
            now);
        EXPECT_TRUE(r);
        return r.value_or(reply{});
    }
};

std::string error_code_of(const reply& r) { return json::parse(r.payload).value("errorCode", ""); }

TEST_F(flow, ProvisionsADeviceInTwoSteps) {
    auto key = ec_key("P-256");
    const json created = create(make_csr(*key));
    const std::string id = created["certificateId"];
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(cn_of(created["certificatePem"]), "pending-" + id);
    EXPECT_EQ(verify_certificate(created["certificatePem"].get<std::string>(), ca.certificate_pem(), t0), "");
    ASSERT_TRUE(registry.find_certificate(id));
    EXPECT_EQ(registry.find_certificate(id)->status, certificate_status::pending);

    const reply r = register_thing(created["certificateOwnershipToken"], "sensor-0042");
    ASSERT_TRUE(r.accepted) << r.payload;
    EXPECT_EQ(r.topic, register_topic + "/accepted");
    const json body = json::parse(r.payload);
    EXPECT_EQ(body["thingName"], "sensor-0042");
    EXPECT_EQ(body["deviceConfiguration"]["endpoint"], "mqtt.example.com");
    EXPECT_EQ(body["deviceConfiguration"]["port"], "8883");  // a string, as AWS IoT sends it
    const std::string pem = body["deviceConfiguration"]["certificatePem"];
    EXPECT_EQ(cn_of(pem), "sensor-0042");
    EXPECT_EQ(verify_certificate(pem, ca.certificate_pem(), t0), "");
    // The same key as the CSR's: the device's private key never left it.
    auto cert = read_certificate(pem);
    EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key.get()), 1);

    const auto thing = registry.find_thing("sensor-0042");
    ASSERT_TRUE(thing);
    const auto active = registry.find_certificate(thing->certificate_id);
    ASSERT_TRUE(active);
    EXPECT_EQ(active->status, certificate_status::active);
    EXPECT_EQ(active->pem, pem);
}

TEST_F(flow, ATokenServesOnce) {
    const json created = create(make_csr(*ec_key("P-256")));
    ASSERT_TRUE(register_thing(created["certificateOwnershipToken"], "dev1").accepted);
    const reply again = register_thing(created["certificateOwnershipToken"], "dev2");
    EXPECT_FALSE(again.accepted);
    EXPECT_EQ(again.topic, register_topic + "/rejected");
    EXPECT_EQ(error_code_of(again), "InvalidCertificateOwnershipToken");
    EXPECT_NE(again.payload.find("used"), std::string::npos) << again.payload;
    EXPECT_FALSE(registry.find_thing("dev2"));
}

TEST_F(flow, ATokenExpiresAfterAnHour) {
    const json a = create(make_csr(*ec_key("P-256")));
    const json b = create(make_csr(*ec_key("P-256")));
    EXPECT_TRUE(register_thing(a["certificateOwnershipToken"], "dev1", t0 + 1h - 1ms).accepted);
    const reply late = register_thing(b["certificateOwnershipToken"], "dev2", t0 + 1h);
    EXPECT_FALSE(late.accepted);
    EXPECT_EQ(error_code_of(late), "InvalidCertificateOwnershipToken");
    EXPECT_NE(late.payload.find("expired"), std::string::npos) << late.payload;
}

TEST_F(flow, UnknownTokenIsRefused) {
    const reply r = register_thing("no-such-token", "dev1");
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(error_code_of(r), "InvalidCertificateOwnershipToken");
}

TEST_F(flow, ANameHeldByAnotherCertificateIsRefusedAndTheTokenKept) {
    const json first = create(make_csr(*ec_key("P-256")));
    ASSERT_TRUE(register_thing(first["certificateOwnershipToken"], "dev1").accepted);
    const json second = create(make_csr(*ec_key("P-256")));  // another device, another key
    const reply taken = register_thing(second["certificateOwnershipToken"], "dev1");
    EXPECT_FALSE(taken.accepted);
    EXPECT_EQ(json::parse(taken.payload)["statusCode"], 409);
    EXPECT_EQ(error_code_of(taken), "ResourceAlreadyExists");
    // The refusal did not spend the token: the device can choose another name.
    EXPECT_TRUE(register_thing(second["certificateOwnershipToken"], "dev2").accepted);
}

TEST_F(flow, TheSameKeyMayRegisterItsNameAgain) {
    auto key = ec_key("P-256");
    const json first = create(make_csr(*key));
    ASSERT_TRUE(register_thing(first["certificateOwnershipToken"], "dev1").accepted);
    // The device lost the reply and starts over with the same key.
    const json second = create(make_csr(*key));
    EXPECT_TRUE(register_thing(second["certificateOwnershipToken"], "dev1").accepted);
}

TEST_F(flow, RefusesBadRequestsWithTheirErrorCodes) {
    EXPECT_EQ(create("junk", t0, false)["errorCode"], "InvalidCsr");
    auto csr_reply = [&](const std::string& payload) {
        const auto r = service.handle(csr_topic, payload, t0);
        EXPECT_TRUE(r && !r->accepted);
        return r ? error_code_of(*r) : std::string();
    };
    EXPECT_EQ(csr_reply("not json"), "InvalidPayload");
    EXPECT_EQ(csr_reply("[1,2]"), "InvalidPayload");
    EXPECT_EQ(csr_reply(R"({"certificateSigningRequest":42})"), "InvalidPayload");
    EXPECT_EQ(csr_reply(std::string(max_request_size + 1, ' ')), "InvalidPayload");
    EXPECT_EQ(error_code_of(service.create_from_csr("claim-1", json{{"certificateSigningRequest",
                                                                      make_csr(*test::rsa_key(1024))}}.dump(), t0)),
              "InvalidCsr");

    const json created = create(make_csr(*ec_key("P-256")));
    const std::string token = created["certificateOwnershipToken"];
    for (const std::string& bad : std::vector<std::string>{"", "a/b", "dev+1", "x#", "pending-1", "tether-cloud", "claim-7", std::string(65, 'a')}) {
        const reply r = register_thing(token, bad);
        EXPECT_FALSE(r.accepted) << bad;
        EXPECT_EQ(error_code_of(r), "InvalidParameters") << bad;
    }
    const auto no_serial = service.handle(register_topic, json{{"certificateOwnershipToken", token}, {"parameters", json::object()}}.dump(), t0);
    EXPECT_EQ(error_code_of(*no_serial), "InvalidParameters");
    const auto other_template = service.handle(
        "tether/provision/claim-1/provisioning-templates/nope/provision/json",
        json{{"certificateOwnershipToken", token}, {"parameters", {{"SerialNumber", "dev1"}}}}.dump(), t0);
    ASSERT_TRUE(other_template);
    EXPECT_EQ(json::parse(other_template->payload)["statusCode"], 404);
    EXPECT_EQ(error_code_of(*other_template), "ResourceNotFound");
    // None of these spent the token.
    EXPECT_TRUE(register_thing(token, "dev1").accepted);
}

TEST_F(flow, IgnoresTopicsThatAreNotProvisioningRequests) {
    EXPECT_FALSE(service.handle("ioto/service/dev1/store/set", "{}", t0));
    EXPECT_FALSE(service.handle("tether/provision/claim-1/certificates/create-from-csr/json/accepted", "{}", t0));
    EXPECT_FALSE(service.handle("tether/provision/a+b/certificates/create-from-csr/json", "{}", t0));
}

TEST_F(flow, RevocationListsTheCertificatesAndRefusesTheThingUntilReleased) {
    const json created = create(make_csr(*ec_key("P-256")));
    const reply r = register_thing(created["certificateOwnershipToken"], "dev1");
    ASSERT_TRUE(r.accepted);
    const std::string pem = json::parse(r.payload)["deviceConfiguration"]["certificatePem"];
    EXPECT_EQ(verify_certificate(pem, ca.certificate_pem(), t0, service.current_crl(t0)), "");

    const auto rev = service.revoke_thing("dev1", t0 + 1min);
    ASSERT_EQ(rev.revoked.size(), 1u);
    EXPECT_EQ(verify_certificate(pem, ca.certificate_pem(), t0 + 2min, rev.crl_pem), "certificate revoked");
    EXPECT_EQ(rev.release.topic, "ioto/device/dev1/provision/release");
    EXPECT_EQ(rev.release.payload,
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>((t0 + 1min).time_since_epoch()).count()));
    EXPECT_TRUE(service.revoke_thing("dev1", t0 + 2min).revoked.empty());  // already revoked
    EXPECT_TRUE(service.revoke_thing("nobody", t0 + 2min).revoked.empty());

    // The revoked thing provisioning again, with a new key: refused, the token kept.
    const json again = create(make_csr(*ec_key("P-256")), t0 + 3min);
    const reply refused = register_thing(again["certificateOwnershipToken"], "dev1", t0 + 3min);
    EXPECT_FALSE(refused.accepted);
    EXPECT_EQ(error_code_of(refused), "DeviceRevoked");
    EXPECT_EQ(json::parse(refused.payload)["statusCode"], 403);

    // Released by an operator: the same request now succeeds; the old certificate stays revoked.
    const auto released = service.release_thing("dev1", t0 + 4min);
    ASSERT_TRUE(released);
    EXPECT_TRUE(released->revoked.empty()) << "nothing active was left to revoke";
    EXPECT_EQ(released->release.topic, "ioto/device/dev1/provision/release");
    EXPECT_FALSE(service.release_thing("nobody", t0 + 4min));
    const reply accepted = register_thing(again["certificateOwnershipToken"], "dev1", t0 + 5min);
    ASSERT_TRUE(accepted.accepted) << accepted.payload;
    const std::string fresh = json::parse(accepted.payload)["deviceConfiguration"]["certificatePem"];
    EXPECT_EQ(verify_certificate(fresh, ca.certificate_pem(), t0 + 6min, service.current_crl(t0 + 6min)), "");
    EXPECT_EQ(verify_certificate(pem, ca.certificate_pem(), t0 + 6min, service.current_crl(t0 + 6min)),
              "certificate revoked");
}

// Releasing a device that is not revoked: its certificate is revoked (else its name would be
// held by the old key), and it provisions again with a new key.
TEST_F(flow, ReleasingAnActiveThingRevokesItsCertificateAndFreesTheNameForANewKey) {
    const json created = create(make_csr(*ec_key("P-256")));
    const reply r = register_thing(created["certificateOwnershipToken"], "dev1");
    ASSERT_TRUE(r.accepted);
    const std::string pem = json::parse(r.payload)["deviceConfiguration"]["certificatePem"];
    const json other = create(make_csr(*ec_key("P-256")));
    EXPECT_EQ(error_code_of(register_thing(other["certificateOwnershipToken"], "dev1")), "ResourceAlreadyExists");

    const auto released = service.release_thing("dev1", t0 + 1min);
    ASSERT_TRUE(released);
    ASSERT_EQ(released->revoked.size(), 1u);
    EXPECT_EQ(verify_certificate(pem, ca.certificate_pem(), t0 + 2min, released->crl_pem), "certificate revoked");
    EXPECT_TRUE(register_thing(other["certificateOwnershipToken"], "dev1", t0 + 2min).accepted);
}

}  // namespace
}  // namespace tether::cloud::provisioning
