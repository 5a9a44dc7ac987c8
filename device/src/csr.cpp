// Key generation and CSRs with OpenSSL 3's EVP and X509_REQ APIs.

#include "tether/device/csr.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <stdexcept>

namespace tether::device {
namespace {

template <auto Free>
struct freer {
    template <class T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY_free>>;
using req_ptr = std::unique_ptr<X509_REQ, freer<X509_REQ_free>>;
using bio_ptr = std::unique_ptr<BIO, freer<BIO_free_all>>;

[[noreturn]] void fail(const char* what) {
    std::string reasons;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!reasons.empty()) reasons += "; ";
        reasons += buf;
    }
    throw std::runtime_error(std::string(what) + ": " + (reasons.empty() ? "unknown OpenSSL error" : reasons));
}

std::string drain(BIO& bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(&bio, &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

bool parse_key_kind(std::string_view text, key_kind& out) noexcept {
    if (text == "ec-p256") {
        out = key_kind::ec_p256;
    } else if (text == "rsa-2048") {
        out = key_kind::rsa_2048;
    } else {
        return false;
    }
    return true;
}

key_and_csr make_key_and_csr(key_kind kind, std::string_view common_name) {
    if (common_name.empty() || common_name.size() > 64) {
        throw std::invalid_argument("a CSR's common name must be 1 to 64 bytes");
    }
    pkey_ptr key(kind == key_kind::ec_p256 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                           : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
    if (!key) fail("generating the device key");

    req_ptr req(X509_REQ_new());
    if (!req || X509_REQ_set_version(req.get(), 0) != 1) fail("making the CSR");
    X509_NAME* subject = X509_REQ_get_subject_name(req.get());  // owned by req
    if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.data()),
                                   static_cast<int>(common_name.size()), -1, 0) != 1 ||
        X509_REQ_set_pubkey(req.get(), key.get()) != 1 || X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
        fail("signing the CSR");
    }

    key_and_csr out;
    bio_ptr key_bio(BIO_new(BIO_s_mem()));
    if (!key_bio || PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        fail("writing the device key");
    }
    out.key_pem = drain(*key_bio);
    bio_ptr csr_bio(BIO_new(BIO_s_mem()));
    if (!csr_bio || PEM_write_bio_X509_REQ(csr_bio.get(), req.get()) != 1) fail("writing the CSR");
    out.csr_pem = drain(*csr_bio);
    return out;
}

}  // namespace tether::device
