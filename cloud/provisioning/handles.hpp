#pragma once
// Owning handles for OpenSSL objects: a unique_ptr per type, freed by OpenSSL's own
// free function, so that no early return leaks a key or a certificate.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace tether::cloud::provisioning {

template <auto Free>
struct openssl_deleter {
    template <class T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509_free>>;
using x509_req_ptr = std::unique_ptr<X509_REQ, openssl_deleter<X509_REQ_free>>;
using x509_crl_ptr = std::unique_ptr<X509_CRL, openssl_deleter<X509_CRL_free>>;
using x509_name_ptr = std::unique_ptr<X509_NAME, openssl_deleter<X509_NAME_free>>;
using x509_revoked_ptr = std::unique_ptr<X509_REVOKED, openssl_deleter<X509_REVOKED_free>>;
using x509_extension_ptr = std::unique_ptr<X509_EXTENSION, openssl_deleter<X509_EXTENSION_free>>;
using x509_store_ptr = std::unique_ptr<X509_STORE, openssl_deleter<X509_STORE_free>>;
using x509_store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, openssl_deleter<X509_STORE_CTX_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO_free_all>>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BN_free>>;
using asn1_integer_ptr = std::unique_ptr<ASN1_INTEGER, openssl_deleter<ASN1_INTEGER_free>>;
using asn1_time_ptr = std::unique_ptr<ASN1_TIME, openssl_deleter<ASN1_TIME_free>>;

// The reasons on OpenSSL's error queue for this thread, oldest first, joined by "; ",
// and clears the queue (so that a later failure does not report an older reason).
// "unknown OpenSSL error" when the queue is empty.
[[nodiscard]] std::string take_openssl_errors();

// Empties OpenSSL's error queue for this thread, after a failure already reported otherwise.
void clear_openssl_errors();

// A read-only memory BIO over `text` (which must outlive it). Throws std::bad_alloc.
[[nodiscard]] bio_ptr memory_bio(std::string_view text);

// Everything written to a memory BIO, as a string.
[[nodiscard]] std::string bio_text(BIO& bio);

}  // namespace tether::cloud::provisioning
