// TLS: verification of the server and its host name (on by default), mutual TLS, SNI
// and ALPN, against a mosquitto TLS listener and a recording TLS server.

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <gtest/gtest.h>

#include "../support/broker.hpp"
#include "../support/certs.hpp"
#include "../support/coro_test.hpp"
#include "tether/client/client.hpp"

namespace tether::client {
namespace {

using namespace std::chrono_literals;
using test::mosquitto_broker;
using test::run_coro;
using test::test_certs;

options tls_to(const mosquitto_broker& b, const std::string& host, const std::string& ca) {
    options o;
    o.host = host;
    o.port = b.port();
    o.client_id = "tls-client";
    o.tls.enabled = true;
    o.tls.ca_file = ca;
    o.reconnect.enabled = false;
    return o;
}

// A connect that must fail, and fail for good (certificate errors are not retried).
asio::awaitable<void> expect_refused(asio::io_context& io, options o) {
    client c(io.get_executor(), o);
    const auto ec = co_await c.connect();
    EXPECT_TRUE(ec) << "connected, but should not have";
    EXPECT_TRUE(is_permanent(ec)) << ec.message();
    EXPECT_FALSE(c.is_connected());
}

TEST(Tls, VerifiedConnectionCarriesMessages) {
    test_certs certs;
    mosquitto_broker broker({.tls_cert = certs.server_cert, .tls_key = certs.server_key});
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        for (const std::string host : {"localhost", "127.0.0.1"}) {  // a name SAN and an IP SAN
            client c(io.get_executor(), tls_to(broker, host, certs.ca));
            const auto ec = co_await c.connect();
            CO_ASSERT(!ec);
            std::string got;
            CO_ASSERT(!(co_await c.subscribe({"secure/t", qos::at_least_once,
                                              [&](const message& m) { got = std::string(m.text()); }}))
                           .ec);
            CO_ASSERT(!(co_await c.publish("secure/t", "over TLS", qos::exactly_once)));
            CO_ASSERT(co_await test::eventually([&] { return !got.empty(); }));
            EXPECT_EQ(got, "over TLS");
            EXPECT_FALSE(co_await c.disconnect());
        }
    });
}

TEST(Tls, UntrustedCaIsRefused) {
    test_certs certs;
    mosquitto_broker broker({.tls_cert = certs.server_cert, .tls_key = certs.server_key});
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        co_await expect_refused(io, tls_to(broker, "localhost", certs.other_ca));
    });
}

TEST(Tls, WrongHostNameIsRefusedUnlessTurnedOffByName) {
    test_certs certs;
    mosquitto_broker broker({.tls_cert = certs.wrong_host_cert, .tls_key = certs.wrong_host_key});
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        co_await expect_refused(io, tls_to(broker, "localhost", certs.ca));
        co_await expect_refused(io, tls_to(broker, "127.0.0.1", certs.ca));
        // The certificate is good for wrong.example: naming it makes the check pass.
        options named = tls_to(broker, "127.0.0.1", certs.ca);
        named.tls.server_name = "wrong.example";
        client ok(io.get_executor(), named);
        EXPECT_FALSE(co_await ok.connect());
        // The loudly named escape hatches.
        options skip_name = tls_to(broker, "localhost", certs.ca);
        skip_name.tls.insecure_skip_host_name_check = true;
        client c1(io.get_executor(), skip_name);
        EXPECT_FALSE(co_await c1.connect());
        options skip_all = tls_to(broker, "localhost", certs.other_ca);
        skip_all.tls.insecure_skip_verify_dangerous = true;
        client c2(io.get_executor(), skip_all);
        EXPECT_FALSE(co_await c2.connect());
    });
}

TEST(Tls, MutualTls) {
    test_certs certs;
    mosquitto_broker broker({.tls_cert = certs.server_cert,
                             .tls_key = certs.server_key,
                             .tls_ca = certs.ca,
                             .require_client_certificate = true});
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options with_cert = tls_to(broker, "localhost", certs.ca);
        with_cert.tls.cert_file = certs.client_cert;
        with_cert.tls.key_file = certs.client_key;
        client c(io.get_executor(), with_cert);
        EXPECT_FALSE(co_await c.connect());
        EXPECT_FALSE(co_await c.publish("m/t", "x", qos::at_least_once));

        client anonymous(io.get_executor(), tls_to(broker, "localhost", certs.ca));
        EXPECT_TRUE(co_await anonymous.connect());  // the broker wants a certificate
    });
}

// A file named in the TLS options that is not there, or holds no certificate, is reported
// by connect() before any connection is tried: "no such file or directory", or the TLS
// library's own error. A listener is there, and sees nobody.
TEST(Tls, MissingCertificateFileIsAClearError) {
    test_certs certs;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        asio::ip::tcp::acceptor listener(io, {asio::ip::make_address("127.0.0.1"), 0});
        int accepted = 0;
        asio::ip::tcp::socket visitor(io);
        listener.async_accept(visitor, [&](std::error_code ec) { accepted += ec ? 0 : 1; });
        // Connects with these TLS files; returns the error.
        auto refused_for = [&](options o, const char* what) -> asio::awaitable<std::error_code> {
            o.host = "127.0.0.1";
            o.port = listener.local_endpoint().port();
            o.client_id = "tls-files";
            o.tls.enabled = true;
            client c(io.get_executor(), o);
            const auto ec = co_await c.connect();
            EXPECT_FALSE(c.is_connected()) << what;
            std::cout << "[ tls      ] " << what << ": " << ec.message() << "\n";
            co_return ec;
        };
        options missing_ca;
        missing_ca.tls.ca_file = "/nonexistent/ca.pem";
        // ENOENT, which Asio reports in its own category for system errors.
        auto no_such_file = [](std::error_code ec) {
            return ec == std::errc::no_such_file_or_directory || ec == std::error_code(ENOENT, asio::system_category());
        };
        EXPECT_TRUE(no_such_file(co_await refused_for(missing_ca, "missing CA file")));
        options missing_cert;
        missing_cert.tls.ca_file = certs.ca;
        missing_cert.tls.cert_file = "/nonexistent/client.pem";
        missing_cert.tls.key_file = certs.client_key;
        EXPECT_TRUE(no_such_file(co_await refused_for(missing_cert, "missing client certificate")));
        options missing_key;
        missing_key.tls.ca_file = certs.ca;
        missing_key.tls.cert_file = certs.client_cert;
        missing_key.tls.key_file = "/nonexistent/client.key";
        EXPECT_TRUE(no_such_file(co_await refused_for(missing_key, "missing client key")));
        options not_pem;  // a file that is there, and holds no certificate: the CA's private key
        not_pem.tls.ca_file = (certs.dir / "ca.key").string();
        const auto not_a_certificate = co_await refused_for(not_pem, "CA file without a certificate");
        EXPECT_EQ(not_a_certificate.category(), asio::error::get_ssl_category()) << not_a_certificate.message();
        EXPECT_EQ(ERR_GET_REASON(static_cast<unsigned long>(not_a_certificate.value())), X509_R_NO_CERTIFICATE_OR_CRL_FOUND);
        // The same listener, with good files: this client does reach it (so the clients
        // above met nobody because they tried nothing, not because nothing listened). It
        // waits there for a handshake that never comes.
        EXPECT_EQ(accepted, 0);
        options good;
        good.host = "127.0.0.1";
        good.port = listener.local_endpoint().port();
        good.client_id = "tls-files";
        good.tls.enabled = true;
        good.tls.ca_file = certs.ca;
        good.connect_timeout = 1s;
        client reaching(io.get_executor(), good);
        EXPECT_EQ(co_await reaching.connect(), errc::timeout);
        EXPECT_TRUE(co_await test::eventually([&] { return accepted == 1; }));
    });
}

// A TLS server that records the SNI name and the ALPN protocols a client offers, picks
// the first, and answers CONNECT with CONNACK.
struct recording_server {
    std::string sni;
    std::vector<std::string> alpn_offered;
    std::string alpn_chosen;
};

int record_sni(SSL* ssl, int*, void* arg) {
    auto* r = static_cast<recording_server*>(arg);
    if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) r->sni = name;
    return SSL_TLSEXT_ERR_OK;
}

int record_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                void* arg) {
    auto* r = static_cast<recording_server*>(arg);
    for (unsigned i = 0; i < inlen; i += 1 + in[i]) r->alpn_offered.emplace_back(reinterpret_cast<const char*>(in + i + 1), in[i]);
    if (inlen == 0) return SSL_TLSEXT_ERR_NOACK;
    *out = in + 1;
    *outlen = in[0];
    r->alpn_chosen = r->alpn_offered.front();
    return SSL_TLSEXT_ERR_OK;
}

TEST(Tls, SniAndAlpnAreOffered) {
    test_certs certs;
    recording_server seen;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        asio::ssl::context server_ctx(asio::ssl::context::tls_server);
        server_ctx.use_certificate_chain_file(certs.server_cert);
        server_ctx.use_private_key_file(certs.server_key, asio::ssl::context::pem);
        SSL_CTX_set_tlsext_servername_callback(server_ctx.native_handle(), record_sni);
        SSL_CTX_set_tlsext_servername_arg(server_ctx.native_handle(), &seen);
        SSL_CTX_set_alpn_select_cb(server_ctx.native_handle(), record_alpn, &seen);
        // Any port will do; nothing in the client assumes 8883 for TLS (443 works alike).
        asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
        const auto port = acceptor.local_endpoint().port();
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                auto socket = co_await acceptor.async_accept(asio::use_awaitable);
                asio::ssl::stream<asio::ip::tcp::socket> tls(std::move(socket), server_ctx);
                co_await tls.async_handshake(asio::ssl::stream_base::server, asio::use_awaitable);
                std::array<std::uint8_t, 256> buf{};
                co_await tls.async_read_some(asio::buffer(buf), asio::use_awaitable);  // CONNECT
                const std::array<std::uint8_t, 4> connack{0x20, 0x02, 0x00, 0x00};
                co_await asio::async_write(tls, asio::buffer(connack), asio::use_awaitable);
                co_await tls.async_read_some(asio::buffer(buf), asio::use_awaitable);  // until the client goes
            },
            asio::detached);

        options o;
        o.host = "localhost";
        o.port = port;
        o.client_id = "alpn";
        o.tls.enabled = true;
        o.tls.ca_file = certs.ca;
        o.tls.alpn = {"x-amzn-mqtt-ca", "mqtt"};
        client c(io.get_executor(), o);
        EXPECT_FALSE(co_await c.connect());
    });
    EXPECT_EQ(seen.sni, "localhost");
    EXPECT_EQ(seen.alpn_offered, (std::vector<std::string>{"x-amzn-mqtt-ca", "mqtt"}));
    EXPECT_EQ(seen.alpn_chosen, "x-amzn-mqtt-ca");
}

// A server that accepts and then says nothing: connect() gives up after connect_timeout,
// whether it is waiting for the TLS handshake or, over plain TCP, for CONNACK.
TEST(Tls, SilentServerTimesOut) {
    for (const bool tls : {true, false}) {
        run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
            asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
            asio::ip::tcp::socket held(io);
            acceptor.async_accept(held, [](std::error_code) {});  // accepted, never answered
            options o;
            o.host = "127.0.0.1";
            o.port = acceptor.local_endpoint().port();
            o.client_id = "patient";
            o.tls.enabled = tls;
            o.tls.insecure_skip_verify_dangerous = true;
            o.connect_timeout = 300ms;
            client c(io.get_executor(), o);
            const auto t0 = std::chrono::steady_clock::now();
            EXPECT_EQ(co_await c.connect(), errc::timeout) << (tls ? "TLS" : "TCP");
            const auto took = std::chrono::steady_clock::now() - t0;
            EXPECT_GE(took, 250ms);
            EXPECT_LT(took, 5s);  // loaded CI machines are slow, but not this slow
        });
    }
}

}  // namespace
}  // namespace tether::client
