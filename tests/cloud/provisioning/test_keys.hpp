#pragma once
// Keys and CSRs of every kind a device might send, made with OpenSSL for the tests.

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <stdexcept>
#include <string>

#include "provisioning/handles.hpp"
#include "provisioning/keys.hpp"

namespace tether::cloud::provisioning::test {

inline pkey_ptr rsa_key(unsigned bits) {
    pkey_ptr key(EVP_RSA_gen(bits));
    if (!key) throw std::runtime_error("RSA keygen");
    return key;
}

inline pkey_ptr ec_key(const char* curve) {
    pkey_ptr key(EVP_EC_gen(curve));
    if (!key) throw std::runtime_error("EC keygen");
    return key;
}

inline pkey_ptr ed25519_key() {
    pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key) throw std::runtime_error("Ed25519 keygen");
    return key;
}

// A CSR for `key`, signed by it (Ed25519 takes no digest), subject CN `cn`.
inline std::string make_csr(EVP_PKEY& key, const std::string& cn = "device") {
    x509_req_ptr req(X509_REQ_new());
    X509_NAME* name = X509_REQ_get_subject_name(req.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_REQ_set_pubkey(req.get(), &key);
    const EVP_MD* md = EVP_PKEY_get_base_id(&key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
    if (X509_REQ_sign(req.get(), &key, md) <= 0) throw std::runtime_error("CSR signing");
    bio_ptr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_REQ(bio.get(), req.get());
    return bio_text(*bio);
}

// A CSR whose public key is `claimed` but whose signature was made with `signer`: what a
// device that does not hold the key it asks a certificate for would send.
inline std::string mismatched_csr(EVP_PKEY& claimed, EVP_PKEY& signer) {
    x509_req_ptr req(X509_REQ_new());
    X509_REQ_set_pubkey(req.get(), &signer);
    if (X509_REQ_sign(req.get(), &signer, EVP_sha256()) <= 0) throw std::runtime_error("CSR signing");
    X509_REQ_set_pubkey(req.get(), &claimed);  // after signing: the signature no longer matches
    bio_ptr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_REQ(bio.get(), req.get());
    return bio_text(*bio);
}

}  // namespace tether::cloud::provisioning::test
