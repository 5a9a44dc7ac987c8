// The CA: what it signs chains to it and to no other CA, carries the names and CN asked
// for, has a recorded random serial, and the CRL lists exactly the revoked serials.

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "provisioning/certificate_authority.hpp"
#include "provisioning/keys.hpp"
#include "provisioning/verify.hpp"

namespace tether::cloud::provisioning {
namespace {

using namespace std::chrono_literals;

const time_point t0 = std::chrono::sys_days(std::chrono::year(2026) / 11 / 26);

std::string cn_of(const std::string& pem) {
    auto cert = read_certificate(pem);
    char buf[128] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, buf, sizeof buf);
    return buf;
}

std::string serial_of(const std::string& pem) {
    auto cert = read_certificate(pem);
    bignum_ptr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
    char* hex = BN_bn2hex(bn.get());
    std::string out = hex;
    OPENSSL_free(hex);
    return out;
}

TEST(CertificateAuthority, IssuedCertificatesVerifyAgainstItAndNotAnother) {
    const auto ca = certificate_authority::create("test CA", t0);
    const auto other = certificate_authority::create("test CA", t0);  // same name, other key
    auto key = generate_p256_key();
    const auto issued = ca.issue(*key, {.kind = certificate_kind::client, .common_name = "dev1"}, t0);
    EXPECT_EQ(verify_certificate(issued.pem, ca.certificate_pem(), t0), "");
    EXPECT_NE(verify_certificate(issued.pem, other.certificate_pem(), t0), "");
    EXPECT_EQ(cn_of(issued.pem), "dev1");
    // Valid an hour before issue (clock drift), not before that, and not after expiry.
    EXPECT_EQ(verify_certificate(issued.pem, ca.certificate_pem(), t0 - 59min), "");
    EXPECT_EQ(verify_certificate(issued.pem, ca.certificate_pem(), t0 - 61min), "certificate is not yet valid");
    EXPECT_EQ(verify_certificate(issued.pem, ca.certificate_pem(), issued.not_after + 1s), "certificate has expired");
}

TEST(CertificateAuthority, ServerCertificateNamesItsHostsAndClientCertificateNone) {
    const auto ca = certificate_authority::create("test CA", t0);
    auto key = generate_p256_key();
    const auto server = ca.issue(
        *key, {.kind = certificate_kind::server, .common_name = "mqtt.example.com",
               .names = {"localhost", "127.0.0.1", "::1", "mqtt.example.com"}},
        t0);
    auto cert = read_certificate(server.pem);
    EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_host(cert.get(), "mqtt.example.com", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_host(cert.get(), "other.example.com", 0, 0, nullptr), 0);
    EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
    EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
    EXPECT_EQ(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_SERVER, 0), 1);
    EXPECT_EQ(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_CLIENT, 0), 0);

    const auto client = ca.issue(*key, {.kind = certificate_kind::client, .common_name = "dev1"}, t0);
    auto c = read_certificate(client.pem);
    EXPECT_EQ(X509_check_purpose(c.get(), X509_PURPOSE_SSL_CLIENT, 0), 1);
    EXPECT_EQ(X509_check_purpose(c.get(), X509_PURPOSE_SSL_SERVER, 0), 0);
    EXPECT_THROW((void)ca.issue(*key, {.kind = certificate_kind::client, .common_name = "d", .names = {"x"}}, t0),
                 std::invalid_argument);
}

TEST(CertificateAuthority, RefusesBadNames) {
    const auto ca = certificate_authority::create("test CA", t0);
    auto key = generate_p256_key();
    EXPECT_THROW((void)ca.issue(*key, {.common_name = ""}, t0), std::invalid_argument);
    EXPECT_THROW((void)ca.issue(*key, {.common_name = std::string(65, 'a')}, t0), std::invalid_argument);
    EXPECT_THROW((void)ca.issue(*key, {.common_name = "a\nb"}, t0), std::invalid_argument);
    EXPECT_THROW(
        (void)ca.issue(*key, {.kind = certificate_kind::server, .common_name = "s", .names = {"a,DNS:evil.com"}}, t0),
        std::invalid_argument);
    EXPECT_THROW((void)certificate_authority::create("", t0), std::invalid_argument);
}

TEST(CertificateAuthority, SerialsAreRandomAndReportedAsInTheCertificate) {
    const auto ca = certificate_authority::create("test CA", t0);
    auto key = generate_p256_key();
    std::set<std::string> serials;
    for (int i = 0; i < 20; ++i) {
        const auto issued = ca.issue(*key, {.common_name = "dev1"}, t0);
        EXPECT_EQ(issued.serial, serial_of(issued.pem));
        EXPECT_EQ(issued.serial.size(), 32u) << issued.serial;  // 16 bytes, top bit clear
        serials.insert(issued.serial);
    }
    EXPECT_EQ(serials.size(), 20u);
}

TEST(CertificateAuthority, LifetimeIsCappedAtTheCasOwn) {
    const auto ca = certificate_authority::create("test CA", t0, std::chrono::days(30));
    auto key = generate_p256_key();
    const auto issued = ca.issue(*key, {.common_name = "dev1", .lifetime = std::chrono::days(3650)}, t0);
    EXPECT_EQ(issued.not_after, ca.not_after());
    EXPECT_EQ(ca.not_after(), t0 + std::chrono::days(30));
}

TEST(CertificateAuthority, LoadsWhatItSavedAndRefusesAForeignKey) {
    const auto ca = certificate_authority::create("test CA", t0);
    const auto again = certificate_authority::load(ca.certificate_pem(), ca.private_key_pem());
    auto key = generate_p256_key();
    const auto issued = again.issue(*key, {.common_name = "dev1"}, t0);
    EXPECT_EQ(verify_certificate(issued.pem, ca.certificate_pem(), t0), "");
    const auto other = certificate_authority::create("test CA", t0);
    EXPECT_THROW((void)certificate_authority::load(ca.certificate_pem(), other.private_key_pem()), std::invalid_argument);
    EXPECT_THROW((void)certificate_authority::load("junk", ca.private_key_pem()), std::invalid_argument);
    // A leaf is not a CA, even with its own key.
    EXPECT_THROW((void)certificate_authority::load(issued.pem, private_key_pem(*key)), std::invalid_argument);
}

TEST(CertificateAuthority, CrlListsExactlyTheRevokedSerials) {
    const auto ca = certificate_authority::create("test CA", t0);
    auto key = generate_p256_key();
    const auto revoked = ca.issue(*key, {.common_name = "dev1"}, t0);
    const auto kept = ca.issue(*key, {.common_name = "dev2"}, t0);
    const std::vector<revoked_certificate> list{{revoked.serial, t0 + 1h}};
    const std::string crl = ca.crl_pem(list, 7, t0 + 1h);

    auto bio = memory_bio(crl);
    x509_crl_ptr parsed(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
    ASSERT_NE(parsed, nullptr);
    auto ca_cert = read_certificate(ca.certificate_pem());
    EXPECT_EQ(X509_CRL_verify(parsed.get(), X509_get0_pubkey(ca_cert.get())), 1);
    const STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(parsed.get());
    ASSERT_EQ(sk_X509_REVOKED_num(entries), 1);
    bignum_ptr bn(ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, 0)), nullptr));
    char* hex = BN_bn2hex(bn.get());
    EXPECT_EQ(std::string(hex), revoked.serial);
    OPENSSL_free(hex);

    EXPECT_EQ(verify_certificate(revoked.pem, ca.certificate_pem(), t0 + 2h, crl), "certificate revoked");
    EXPECT_EQ(verify_certificate(kept.pem, ca.certificate_pem(), t0 + 2h, crl), "");
    // Good until the CA itself expires: a quiet year must not lock every device out.
    EXPECT_EQ(verify_certificate(kept.pem, ca.certificate_pem(), kept.not_after - 1h, crl), "");
    // An empty CRL revokes nothing; a CRL of another CA is not accepted.
    EXPECT_EQ(verify_certificate(revoked.pem, ca.certificate_pem(), t0 + 2h, ca.crl_pem({}, 1, t0)), "");
    const auto other = certificate_authority::create("test CA", t0);
    EXPECT_NE(verify_certificate(kept.pem, ca.certificate_pem(), t0 + 2h, other.crl_pem({}, 1, t0)), "");
    EXPECT_THROW((void)ca.crl_pem(std::vector<revoked_certificate>{{"not hex", t0}}, 1, t0), std::invalid_argument);
}

}  // namespace
}  // namespace tether::cloud::provisioning
