// The device's key and CSR: the key the CSR carries is the one saved, signed by it.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tether/device/csr.hpp"

namespace tether::device {
namespace {

struct parsed {
    EVP_PKEY* key = nullptr;
    X509_REQ* req = nullptr;
    ~parsed() {
        EVP_PKEY_free(key);
        X509_REQ_free(req);
    }
};

void parse(const key_and_csr& k, parsed& p) {
    BIO* kb = BIO_new_mem_buf(k.key_pem.data(), static_cast<int>(k.key_pem.size()));
    p.key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(kb);
    BIO* cb = BIO_new_mem_buf(k.csr_pem.data(), static_cast<int>(k.csr_pem.size()));
    p.req = PEM_read_bio_X509_REQ(cb, nullptr, nullptr, nullptr);
    BIO_free(cb);
}

TEST(Csr, EcP256ByDefaultSignedByTheSavedKey) {
    const auto k = make_key_and_csr(key_kind::ec_p256, "claim-1");
    parsed p;
    parse(k, p);
    ASSERT_NE(p.key, nullptr);
    ASSERT_NE(p.req, nullptr);
    EXPECT_EQ(X509_REQ_verify(p.req, p.key), 1);
    char group[64] = {};
    EVP_PKEY_get_group_name(p.key, group, sizeof group, nullptr);
    EXPECT_STREQ(group, "prime256v1");
    EVP_PKEY* inside = X509_REQ_get0_pubkey(p.req);
    EXPECT_EQ(EVP_PKEY_eq(inside, p.key), 1);
    char cn[65] = {};
    X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(p.req), NID_commonName, cn, sizeof cn);
    EXPECT_STREQ(cn, "claim-1");
}

TEST(Csr, Rsa2048OnRequest) {
    const auto k = make_key_and_csr(key_kind::rsa_2048, "claim-2");
    parsed p;
    parse(k, p);
    ASSERT_NE(p.key, nullptr);
    EXPECT_EQ(EVP_PKEY_get_bits(p.key), 2048);
    EXPECT_EQ(X509_REQ_verify(p.req, p.key), 1);
}

TEST(Csr, EachCallMakesANewKey) {
    EXPECT_NE(make_key_and_csr(key_kind::ec_p256, "a").key_pem, make_key_and_csr(key_kind::ec_p256, "a").key_pem);
}

TEST(Csr, RefusesABadCommonName) {
    EXPECT_THROW((void)make_key_and_csr(key_kind::ec_p256, ""), std::invalid_argument);
    EXPECT_THROW((void)make_key_and_csr(key_kind::ec_p256, std::string(65, 'a')), std::invalid_argument);
    key_kind kind{};
    EXPECT_TRUE(parse_key_kind("rsa-2048", kind));
    EXPECT_EQ(kind, key_kind::rsa_2048);
    EXPECT_FALSE(parse_key_kind("dsa", kind));
}

}  // namespace
}  // namespace tether::device
