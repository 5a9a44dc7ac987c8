#include "transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <asio/ip/address.hpp>
#include <asio/read.hpp>
#include <asio/ssl/error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <sys/un.h>

#include <algorithm>
#include <string>
#include <tuple>

#include "use_tuple.hpp"

namespace tether::client::detail {

namespace {

// ALPN protocol names in the wire format: each prefixed by its length (RFC 7301).
std::string alpn_wire(const std::vector<std::string>& names) {
    std::string wire;
    for (const auto& n : names) {
        if (n.empty() || n.size() > 255) continue;
        wire.push_back(static_cast<char>(n.size()));
        wire += n;
    }
    return wire;
}

}  // namespace

std::unique_ptr<asio::ssl::context> make_tls_context(const tls_options& tls, std::error_code& ec) {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    // The lowest version accepted; TLS 1.0 and 1.1 are never offered.
    int lowest = TLS1_2_VERSION;
    if (tls.version == "tlsv1.3") {
        lowest = TLS1_3_VERSION;
    } else if (!tls.version.empty() && tls.version != "tlsv1.2") {
        ec = make_error_code(std::errc::invalid_argument);
        return nullptr;
    }
    if (SSL_CTX_set_min_proto_version(ctx->native_handle(), lowest) != 1) {
        ec = make_error_code(std::errc::invalid_argument);
        return nullptr;
    }
    // TLS 1.3 suites are set apart in OpenSSL; like mosquitto, the list is for TLS 1.2.
    if (!tls.ciphers.empty() && SSL_CTX_set_cipher_list(ctx->native_handle(), tls.ciphers.c_str()) != 1) {
        ec = make_error_code(std::errc::invalid_argument);
        return nullptr;
    }
    if (tls.insecure_skip_verify_dangerous) {
        ctx->set_verify_mode(asio::ssl::verify_none);
    } else {
        ctx->set_verify_mode(asio::ssl::verify_peer);
        if (!tls.ca_file.empty()) {
            ctx->load_verify_file(tls.ca_file, ec);
            if (ec) return nullptr;
        }
        if (!tls.ca_path.empty()) {
            ctx->add_verify_path(tls.ca_path, ec);
            if (ec) return nullptr;
        }
        if ((tls.ca_file.empty() && tls.ca_path.empty()) || tls.use_os_certs) {
            ctx->set_default_verify_paths(ec);
            if (ec) return nullptr;
        }
    }
    if (!tls.cert_file.empty()) {
        ctx->use_certificate_chain_file(tls.cert_file, ec);
        if (ec) return nullptr;
        ctx->use_private_key_file(tls.key_file.empty() ? tls.cert_file : tls.key_file, asio::ssl::context::pem, ec);
        if (ec) return nullptr;
    }
    if (!tls.alpn.empty()) {
        const std::string wire = alpn_wire(tls.alpn);
        // SSL_CTX_set_alpn_protos returns 0 on success (unlike most of OpenSSL).
        if (SSL_CTX_set_alpn_protos(ctx->native_handle(), reinterpret_cast<const unsigned char*>(wire.data()),
                                    static_cast<unsigned>(wire.size())) != 0) {
            ec = make_error_code(std::errc::invalid_argument);
            return nullptr;
        }
    }
    return ctx;
}

asio::awaitable<std::error_code> transport::open(const endpoint& to, const options& opts, asio::ssl::context* tls) {
    if (!opts.unix_socket.empty()) {
        if (tls != nullptr) co_return make_error_code(std::errc::invalid_argument);  // TLS over TCP only
        co_return co_await open_local(opts.unix_socket);
    }
    asio::ip::tcp::resolver resolver(tcp_.get_executor());
    std::vector<asio::ip::tcp::endpoint> locals;
    if (!opts.bind_address.empty()) {
        // Numeric or a name; port 0: any local port.
        auto [bec, bound] = co_await resolver.async_resolve(opts.bind_address, "0", asio::ip::resolver_base::passive,
                                                            use_tuple);
        if (bec) co_return bec;
        for (const auto& r : bound) locals.push_back(r.endpoint());
    }
    auto [rec, results] = co_await resolver.async_resolve(to.host, std::to_string(to.port), use_tuple);
    if (rec) co_return rec;
    std::vector<asio::ip::tcp::endpoint> endpoints;
    for (const auto& r : results) endpoints.push_back(r.endpoint());
    if (const auto cec = co_await connect_any(endpoints, locals)) co_return cec;
    if (tls == nullptr) co_return std::error_code{};

    tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(tcp_, *tls);
    SSL* ssl = tls_->native_handle();
    const std::string& name = opts.tls.server_name.empty() ? to.host : opts.tls.server_name;
    std::error_code addr_ec;
    const auto address = asio::ip::make_address(name, addr_ec);
    if (addr_ec) {
        SSL_set_tlsext_host_name(ssl, name.c_str());  // SNI carries names, never addresses (RFC 6066)
    }
    if (!opts.tls.insecure_skip_verify_dangerous && !opts.tls.insecure_skip_host_name_check) {
        // Check the certificate is for this host (a name, or an IP address SAN).
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        const int ok = addr_ec ? X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size())
                               : X509_VERIFY_PARAM_set1_ip_asc(param, address.to_string().c_str());
        if (ok != 1) co_return make_error_code(std::errc::invalid_argument);
    }
    auto [hec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, use_tuple);
    co_return hec;
}

asio::awaitable<std::error_code> transport::open_local(const std::string& path) {
    // sockaddr_un holds the path and its NUL; a longer path cannot be addressed at all.
    if (path.size() >= sizeof(sockaddr_un::sun_path)) co_return make_error_code(std::errc::filename_too_long);
    is_local_ = true;
    auto [ec] = co_await local_.async_connect(asio::local::stream_protocol::endpoint(path), use_tuple);
    co_return ec;
}

asio::awaitable<std::error_code> transport::connect_any(const std::vector<asio::ip::tcp::endpoint>& endpoints,
                                                        const std::vector<asio::ip::tcp::endpoint>& bind_to) {
    std::error_code last = asio::error::not_found;
    for (const auto& endpoint : endpoints) {
        std::error_code ignored;
        tcp_.close(ignored);
        if (!bind_to.empty()) {
            const auto local = std::find_if(bind_to.begin(), bind_to.end(), [&](const asio::ip::tcp::endpoint& l) {
                return l.protocol() == endpoint.protocol();
            });
            if (local == bind_to.end()) {
                last = make_error_code(std::errc::address_family_not_supported);
                continue;
            }
            std::error_code bec;
            tcp_.open(endpoint.protocol(), bec);
            if (!bec) tcp_.bind(*local, bec);
            if (bec) {
                last = bec;
                continue;
            }
        }
        auto [ec] = co_await tcp_.async_connect(endpoint, use_tuple);
        if (!ec) {
            tcp_.set_option(asio::ip::tcp::no_delay(true), ignored);  // MQTT packets are small; latency matters
            co_return std::error_code{};
        }
        last = ec;  // on to the next address
    }
    co_return last;
}

void transport::close() noexcept {
    std::error_code ignored;
    if (is_local_) {
        local_.shutdown(asio::local::stream_protocol::socket::shutdown_both, ignored);
        local_.close(ignored);
        return;
    }
    tcp_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    tcp_.close(ignored);
}

}  // namespace tether::client::detail
