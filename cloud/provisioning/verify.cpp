#include "provisioning/verify.hpp"

#include <openssl/pem.h>

#include <exception>

#include "provisioning/keys.hpp"

namespace tether::cloud::provisioning {

std::string verify_certificate(std::string_view certificate_pem, std::string_view ca_pem, time_point now,
                               std::string_view crl_pem) {
    try {
        x509_ptr cert = read_certificate(certificate_pem);
        x509_ptr ca = read_certificate(ca_pem);
        x509_store_ptr store(X509_STORE_new());
        x509_store_ctx_ptr ctx(X509_STORE_CTX_new());
        if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1) return "out of memory";
        if (!crl_pem.empty()) {
            auto bio = memory_bio(crl_pem);
            x509_crl_ptr crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
            if (!crl) return "not a readable PEM CRL: " + take_openssl_errors();
            if (X509_STORE_add_crl(store.get(), crl.get()) != 1) return "cannot use the CRL: " + take_openssl_errors();
            X509_STORE_set_flags(store.get(), X509_V_FLAG_CRL_CHECK);
        }
        if (X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) return take_openssl_errors();
        X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(now));
        if (X509_verify_cert(ctx.get()) == 1) return {};
        clear_openssl_errors();
        return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    } catch (const std::exception& e) {
        return e.what();
    }
}

}  // namespace tether::cloud::provisioning
