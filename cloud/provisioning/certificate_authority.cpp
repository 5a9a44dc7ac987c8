#include "provisioning/certificate_authority.hpp"

#include <arpa/inet.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <stdexcept>

#include "provisioning/keys.hpp"
#include "provisioning/random.hpp"

namespace tether::cloud::provisioning {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + take_openssl_errors()); }

void check_common_name(std::string_view cn) {
    if (cn.empty() || cn.size() > 64) throw std::invalid_argument("a common name has 1 to 64 bytes");
    for (const char c : cn) {
        if (c < 0x20 || c > 0x7e) throw std::invalid_argument("a common name is printable ASCII");
    }
}

bool is_ip_address(const std::string& text) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, text.c_str(), buf) == 1 || ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// Names go into an OpenSSL configuration string, so only characters that cannot end an
// entry or start another are allowed.
void check_dns_name(std::string_view name) {
    std::string_view rest = name;
    if (rest.starts_with("*.")) rest.remove_prefix(2);
    if (rest.empty() || name.size() > 253) throw std::invalid_argument("bad host name: '" + std::string(name) + "'");
    for (const char c : rest) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!ok) throw std::invalid_argument("bad host name: '" + std::string(name) + "'");
    }
}

std::time_t to_time_t(time_point t) { return std::chrono::system_clock::to_time_t(t); }

time_point asn1_to_time_point(const ASN1_TIME* t) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(t, &tm) != 1) fail("reading a certificate time");
    return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

void set_time(X509* cert, bool not_after, time_point t) {
    asn1_time_ptr asn1(ASN1_TIME_set(nullptr, to_time_t(t)));
    if (!asn1) fail("encoding a time");
    const int ok = not_after ? X509_set1_notAfter(cert, asn1.get()) : X509_set1_notBefore(cert, asn1.get());
    if (ok != 1) fail("setting a validity time");
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    x509_extension_ptr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) fail("adding extension " + value);
}

// A positive random serial below 2^127: RFC 5280 allows 20 octets, and unpredictable
// serials keep chosen-prefix collisions off the table.
asn1_integer_ptr random_serial(std::string& hex_out) {
    std::string bytes = random_bytes(16);
    bytes[0] = static_cast<char>(static_cast<unsigned char>(bytes[0]) & 0x7f);
    if (bytes[0] == 0) bytes[0] = 1;  // keeps every serial 16 bytes long, so none reads as a shorter one
    bignum_ptr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), 16, nullptr));
    if (!bn) fail("making a serial");
    char* hex = BN_bn2hex(bn.get());
    if (hex == nullptr) fail("printing a serial");
    hex_out = hex;
    OPENSSL_free(hex);
    asn1_integer_ptr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    if (!serial) fail("encoding a serial");
    return serial;
}

x509_name_ptr name_with_cn(std::string_view cn) {
    x509_name_ptr name(X509_NAME_new());
    if (!name || X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                                            reinterpret_cast<const unsigned char*>(cn.data()),
                                            static_cast<int>(cn.size()), -1, 0) != 1) {
        fail("setting a common name");
    }
    return name;
}

}  // namespace

certificate_authority::certificate_authority(x509_ptr certificate, pkey_ptr key)
    : certificate_(std::move(certificate)), key_(std::move(key)) {}

certificate_authority certificate_authority::create(std::string_view common_name, time_point now,
                                                    std::chrono::days lifetime) {
    check_common_name(common_name);
    pkey_ptr key = generate_p256_key();
    x509_ptr cert(X509_new());
    if (!cert) fail("X509_new");
    std::string serial_hex;
    auto serial = random_serial(serial_hex);
    const auto name = name_with_cn(common_name);
    if (X509_set_version(cert.get(), X509_VERSION_3) != 1 || X509_set_serialNumber(cert.get(), serial.get()) != 1 ||
        X509_set_subject_name(cert.get(), name.get()) != 1 || X509_set_issuer_name(cert.get(), name.get()) != 1 ||
        X509_set_pubkey(cert.get(), key.get()) != 1) {
        fail("building the CA certificate");
    }
    set_time(cert.get(), false, now - std::chrono::hours(1));
    set_time(cert.get(), true, now + lifetime);
    // pathlen 0: the CA signs end entities only, never another CA.
    add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
    add_extension(cert.get(), cert.get(), NID_authority_key_identifier, "keyid:always");
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) fail("signing the CA certificate");
    return certificate_authority(std::move(cert), std::move(key));
}

certificate_authority certificate_authority::load(std::string_view certificate_pem, std::string_view key_pem) {
    x509_ptr cert = read_certificate(certificate_pem);
    pkey_ptr key = read_private_key(key_pem);
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        clear_openssl_errors();
        throw std::invalid_argument("the CA key does not belong to the CA certificate");
    }
    if (X509_check_ca(cert.get()) == 0) throw std::invalid_argument("the CA certificate is not a CA certificate");
    return certificate_authority(std::move(cert), std::move(key));
}

std::string certificate_authority::certificate_pem() const { return provisioning::certificate_pem(*certificate_); }

std::string certificate_authority::private_key_pem() const { return provisioning::private_key_pem(*key_); }

time_point certificate_authority::not_after() const { return asn1_to_time_point(X509_get0_notAfter(certificate_.get())); }

issued_certificate certificate_authority::issue(EVP_PKEY& subject_key, const certificate_profile& profile,
                                                time_point now) const {
    check_common_name(profile.common_name);
    std::string san;
    if (profile.kind == certificate_kind::server) {
        for (const auto& n : profile.names) {
            if (!san.empty()) san += ',';
            if (is_ip_address(n)) {
                san += "IP:" + n;
            } else {
                check_dns_name(n);
                san += "DNS:" + n;
            }
        }
    } else if (!profile.names.empty()) {
        throw std::invalid_argument("subjectAltName names are for server certificates");
    }
    x509_ptr cert(X509_new());
    if (!cert) fail("X509_new");
    issued_certificate out;
    auto serial = random_serial(out.serial);
    const auto name = name_with_cn(profile.common_name);
    if (X509_set_version(cert.get(), X509_VERSION_3) != 1 || X509_set_serialNumber(cert.get(), serial.get()) != 1 ||
        X509_set_subject_name(cert.get(), name.get()) != 1 ||
        X509_set_issuer_name(cert.get(), X509_get_subject_name(certificate_.get())) != 1 ||
        X509_set_pubkey(cert.get(), &subject_key) != 1) {
        fail("building a certificate");
    }
    out.not_before = now - std::chrono::hours(1);
    out.not_after = std::min<time_point>(now + profile.lifetime, not_after());
    set_time(cert.get(), false, out.not_before);
    set_time(cert.get(), true, out.not_after);
    add_extension(cert.get(), certificate_.get(), NID_basic_constraints, "critical,CA:FALSE");
    // RSA key exchange (TLS 1.2) needs keyEncipherment; EC keys only ever sign.
    const bool rsa = EVP_PKEY_get_base_id(&subject_key) == EVP_PKEY_RSA;
    add_extension(cert.get(), certificate_.get(), NID_key_usage,
                  rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature");
    add_extension(cert.get(), certificate_.get(), NID_ext_key_usage,
                  profile.kind == certificate_kind::server ? "serverAuth" : "clientAuth");
    add_extension(cert.get(), certificate_.get(), NID_subject_key_identifier, "hash");
    add_extension(cert.get(), certificate_.get(), NID_authority_key_identifier, "keyid:always");
    if (!san.empty()) add_extension(cert.get(), certificate_.get(), NID_subject_alt_name, san);
    if (X509_sign(cert.get(), key_.get(), EVP_sha256()) <= 0) fail("signing a certificate");
    out.pem = provisioning::certificate_pem(*cert);
    return out;
}

std::string certificate_authority::crl_pem(std::span<const revoked_certificate> revoked, std::uint64_t crl_number,
                                           time_point now) const {
    x509_crl_ptr crl(X509_CRL_new());
    if (!crl) fail("X509_CRL_new");
    asn1_time_ptr last(ASN1_TIME_set(nullptr, to_time_t(now)));
    asn1_time_ptr next(ASN1_TIME_set(nullptr, to_time_t(std::max(not_after(), now))));
    if (!last || !next || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(certificate_.get())) != 1 ||
        X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 || X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1) {
        fail("building a CRL");
    }
    for (const auto& r : revoked) {
        const bool hex = !r.serial.empty() && r.serial.size() <= 40 &&
                         std::all_of(r.serial.begin(), r.serial.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
        if (!hex) throw std::invalid_argument("a serial is 1 to 40 hex digits: '" + r.serial + "'");
        BIGNUM* raw = nullptr;
        if (BN_hex2bn(&raw, r.serial.c_str()) == 0) fail("reading a serial");
        bignum_ptr bn(raw);
        asn1_integer_ptr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
        asn1_time_ptr when(ASN1_TIME_set(nullptr, to_time_t(r.revoked_at)));
        x509_revoked_ptr entry(X509_REVOKED_new());
        if (!serial || !when || !entry || X509_REVOKED_set_serialNumber(entry.get(), serial.get()) != 1 ||
            X509_REVOKED_set_revocationDate(entry.get(), when.get()) != 1 ||
            X509_CRL_add0_revoked(crl.get(), entry.get()) != 1) {
            fail("adding a revoked serial");
        }
        entry.release();  // the CRL owns it now
    }
    bignum_ptr number_bn(BN_new());
    if (!number_bn || BN_set_word(number_bn.get(), crl_number) != 1) fail("CRL number");
    asn1_integer_ptr number(BN_to_ASN1_INTEGER(number_bn.get(), nullptr));
    if (!number || X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1) fail("CRL number");
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, certificate_.get(), nullptr, nullptr, crl.get(), 0);
    x509_extension_ptr akid(X509V3_EXT_nconf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
    if (!akid || X509_CRL_add_ext(crl.get(), akid.get(), -1) != 1) fail("CRL authority key identifier");
    if (X509_CRL_sort(crl.get()) != 1 || X509_CRL_sign(crl.get(), key_.get(), EVP_sha256()) <= 0) fail("signing the CRL");
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) fail("writing the CRL");
    return bio_text(*bio);
}

}  // namespace tether::cloud::provisioning
