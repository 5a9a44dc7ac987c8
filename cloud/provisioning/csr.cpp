#include "provisioning/csr.hpp"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <cstring>

namespace tether::cloud::provisioning {

namespace {

rejection refuse(std::string message) {
    clear_openssl_errors();  // what OpenSSL queued is summed up in `message`
    return {400, error_code::invalid_csr, std::move(message)};
}

// Empty if the key is one we accept, else why not.
std::string key_problem(EVP_PKEY& key) {
    const int type = EVP_PKEY_get_base_id(&key);
    if (type == EVP_PKEY_RSA) {
        const int bits = EVP_PKEY_get_bits(&key);
        if (bits < 2048) return "RSA key of " + std::to_string(bits) + " bits is weaker than RSA 2048";
        if (bits > 8192) return "RSA key of " + std::to_string(bits) + " bits is larger than the 8192 accepted";
        return {};
    }
    if (type == EVP_PKEY_EC) {
        char group[64] = {};
        std::size_t len = 0;
        if (EVP_PKEY_get_utf8_string_param(&key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1) {
            return "EC key without a named curve (explicit parameters are refused)";
        }
        for (const char* ok : {"prime256v1", "P-256", "secp384r1", "P-384", "secp521r1", "P-521"}) {
            if (std::strcmp(group, ok) == 0) return {};
        }
        return std::string("EC curve ") + group + " is refused (P-256, P-384 and P-521 are accepted)";
    }
    const char* name = OBJ_nid2sn(type);
    return std::string("key type ") + (name != nullptr ? name : "unknown") +
           " is refused (RSA 2048+ and EC P-256/P-384/P-521 are accepted)";
}

}  // namespace

std::variant<checked_csr, rejection> check_csr(std::string_view pem) {
    if (pem.size() > max_csr_pem_size) {
        return refuse("CSR of " + std::to_string(pem.size()) + " bytes is larger than " +
                      std::to_string(max_csr_pem_size));
    }
    if (pem.find("-----BEGIN CERTIFICATE REQUEST-----") == std::string_view::npos &&
        pem.find("-----BEGIN NEW CERTIFICATE REQUEST-----") == std::string_view::npos) {
        return refuse("not a PEM certificate signing request");
    }
    auto bio = memory_bio(pem);
    x509_req_ptr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    if (!req) return refuse("unreadable certificate signing request");
    // get_pubkey returns a new reference that we own.
    pkey_ptr key(X509_REQ_get_pubkey(req.get()));
    if (!key) return refuse("the CSR carries no readable public key");
    if (auto problem = key_problem(*key); !problem.empty()) return refuse(std::move(problem));
    if (X509_REQ_verify(req.get(), key.get()) != 1) return refuse("the CSR's signature does not verify");
    return checked_csr{std::move(req), std::move(key)};
}

}  // namespace tether::cloud::provisioning
