#include "web/certificate_expiry.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <climits>
#include <ctime>
#include <memory>

namespace tether::cloud::web {

std::optional<std::int64_t> certificate_expiry_ms(std::string_view pem) {
    if (pem.empty() || pem.size() > INT_MAX) return std::nullopt;
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    if (!bio) return std::nullopt;
    std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
                                                     &X509_free);
    if (!cert) return std::nullopt;
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) return std::nullopt;
    return static_cast<std::int64_t>(::timegm(&tm)) * 1000;
}

}  // namespace tether::cloud::web
