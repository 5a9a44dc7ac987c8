#include "provisioning/keys.hpp"

#include <openssl/pem.h>
#include <openssl/sha.h>

#include <stdexcept>

#include "provisioning/random.hpp"

namespace tether::cloud::provisioning {

namespace {

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string(what) + ": " + take_openssl_errors()); }

bio_ptr output_bio() {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio) fail("BIO_new");
    return bio;
}

}  // namespace

pkey_ptr generate_p256_key() {
    pkey_ptr key(EVP_EC_gen("P-256"));
    if (!key) fail("EC P-256 key generation");
    return key;
}

std::string private_key_pem(EVP_PKEY& key) {
    auto bio = output_bio();
    if (PEM_write_bio_PrivateKey(bio.get(), &key, nullptr, nullptr, 0, nullptr, nullptr) != 1) fail("writing a private key");
    return bio_text(*bio);
}

std::string public_key_pem(EVP_PKEY& key) {
    auto bio = output_bio();
    if (PEM_write_bio_PUBKEY(bio.get(), &key) != 1) fail("writing a public key");
    return bio_text(*bio);
}

pkey_ptr read_private_key(std::string_view pem) {
    auto bio = memory_bio(pem);
    // No password callback: an encrypted key is refused instead of prompting on a terminal.
    pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
    if (!key) throw std::invalid_argument("not a readable unencrypted private key: " + take_openssl_errors());
    return key;
}

x509_ptr read_certificate(std::string_view pem) {
    auto bio = memory_bio(pem);
    x509_ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) throw std::invalid_argument("not a readable PEM certificate: " + take_openssl_errors());
    return cert;
}

std::string certificate_pem(X509& certificate) {
    auto bio = output_bio();
    if (PEM_write_bio_X509(bio.get(), &certificate) != 1) fail("writing a certificate");
    return bio_text(*bio);
}

std::string public_key_fingerprint(EVP_PKEY& key) {
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(&key, &der);
    if (len <= 0) fail("encoding a public key");
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(der, static_cast<std::size_t>(len), digest);
    OPENSSL_free(der);
    return to_hex(digest);
}

}  // namespace tether::cloud::provisioning
