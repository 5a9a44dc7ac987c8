// check_csr: which CSRs the CA signs (PROTOCOL.md §3: nothing weaker than RSA 2048 / EC
// P-256), and the AWS-style rejection for every other.

#include <gtest/gtest.h>

#include <variant>

#include "provisioning/csr.hpp"
#include "test_keys.hpp"

namespace tether::cloud::provisioning {
namespace {

using namespace test;

rejection refused(const std::string& pem) {
    auto r = check_csr(pem);
    EXPECT_TRUE(std::holds_alternative<rejection>(r)) << "accepted, but should not have been";
    return std::holds_alternative<rejection>(r) ? std::get<rejection>(r) : rejection{};
}

void expect_accepted(const std::string& pem) {
    auto r = check_csr(pem);
    ASSERT_TRUE(std::holds_alternative<checked_csr>(r)) << std::get<rejection>(r).message;
    EXPECT_NE(std::get<checked_csr>(r).public_key, nullptr);
}

TEST(Csr, AcceptsP256P384AndRsa2048) {
    expect_accepted(make_csr(*ec_key("P-256")));
    expect_accepted(make_csr(*ec_key("P-384")));
    expect_accepted(make_csr(*rsa_key(2048)));
}

TEST(Csr, RefusesRsaUnder2048WithInvalidCsr) {
    const auto r = refused(make_csr(*rsa_key(1024)));
    EXPECT_EQ(r.status_code, 400);
    EXPECT_EQ(r.error_code, "InvalidCsr");
    EXPECT_NE(r.message.find("1024"), std::string::npos) << r.message;
    EXPECT_EQ(r.body().dump(), R"({"errorCode":"InvalidCsr","errorMessage":")" + r.message + R"(","statusCode":400})");
}

TEST(Csr, RefusesOtherCurvesAndKeyTypes) {
    const auto k1 = refused(make_csr(*ec_key("secp256k1")));
    EXPECT_EQ(k1.error_code, "InvalidCsr");
    EXPECT_NE(k1.message.find("secp256k1"), std::string::npos) << k1.message;
    const auto p224 = refused(make_csr(*ec_key("P-224")));  // weaker than P-256
    EXPECT_EQ(p224.error_code, "InvalidCsr");
    const auto ed = refused(make_csr(*ed25519_key()));
    EXPECT_EQ(ed.error_code, "InvalidCsr");
    EXPECT_NE(ed.message.find("ED25519"), std::string::npos) << ed.message;
}

TEST(Csr, RefusesABadSignature) {
    auto device = ec_key("P-256");
    auto other = ec_key("P-256");
    const auto r = refused(mismatched_csr(*device, *other));
    EXPECT_EQ(r.error_code, "InvalidCsr");
    EXPECT_NE(r.message.find("signature"), std::string::npos) << r.message;
}

TEST(Csr, RefusesWhatIsNotACsr) {
    auto key = ec_key("P-256");
    for (const std::string& bad : std::vector<std::string>{std::string(), std::string("hello"), private_key_pem(*key),
                                  std::string("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"),
                                  std::string("-----BEGIN CERTIFICATE REQUEST-----\n")}) {
        EXPECT_EQ(refused(bad).error_code, "InvalidCsr") << bad;
    }
    // A good CSR cut short.
    const std::string good = make_csr(*key);
    EXPECT_EQ(refused(good.substr(0, good.size() / 2)).error_code, "InvalidCsr");
}

TEST(Csr, RefusesOversizedPemBeforeReadingIt) {
    std::string pem = make_csr(*ec_key("P-256"));
    pem.insert(0, max_csr_pem_size, '\n');  // a good CSR behind blank lines: only the size is wrong
    const auto r = refused(pem);
    EXPECT_EQ(r.error_code, "InvalidCsr");
    EXPECT_NE(r.message.find("larger"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace tether::cloud::provisioning
