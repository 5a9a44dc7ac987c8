#pragma once
// The byte stream under MQTT: TCP, or TLS over TCP. Opening resolves the host and tries
// each address in turn (IPv6 and IPv4 alike), then runs the TLS handshake with SNI, ALPN
// and verification as the options say.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

#include "tether/client/options.hpp"

namespace tether::client::detail {

// A TLS context for these options: trust store, client certificate and key, ALPN list,
// verification on unless turned off by name. Errors: the OpenSSL error of a file that
// cannot be read or a key that does not match its certificate.
std::unique_ptr<asio::ssl::context> make_tls_context(const tls_options& tls, std::error_code& ec);

class transport {
public:
    explicit transport(const asio::any_io_executor& ex) : tcp_(ex) {}

    // Resolves `to`, connects to the first of its addresses that answers, and shakes hands
    // when `tls` is set. Errors: resolver errors, the last address's connect error, TLS
    // errors (a certificate that fails verification gives SSL_R_CERTIFICATE_VERIFY_FAILED).
    asio::awaitable<std::error_code> open(const endpoint& to, const options& opts, asio::ssl::context* tls);

    // Connects to the first of `endpoints` that accepts, in order (IPv6 and IPv4 alike).
    // Errors: the last endpoint's connect error; asio::error::not_found when there are none.
    asio::awaitable<std::error_code> connect_any(const std::vector<asio::ip::tcp::endpoint>& endpoints);

    // Start a read or a write of some bytes; `handler(std::error_code, std::size_t)` runs
    // when it completes. One read and one write may be under way at once.
    template <class Handler>
    void async_read_some(std::span<std::uint8_t> into, Handler&& handler) {
        const auto buffer = asio::buffer(into.data(), into.size());
        if (tls_) {
            tls_->async_read_some(buffer, std::forward<Handler>(handler));
        } else {
            tcp_.async_read_some(buffer, std::forward<Handler>(handler));
        }
    }
    template <class Handler>
    void async_write_some(std::span<const std::uint8_t> bytes, Handler&& handler) {
        const auto buffer = asio::buffer(bytes.data(), bytes.size());
        if (tls_) {
            tls_->async_write_some(buffer, std::forward<Handler>(handler));
        } else {
            tcp_.async_write_some(buffer, std::forward<Handler>(handler));
        }
    }

    // Closes at once; reads and writes under way complete with operation_aborted.
    void close() noexcept;

private:
    asio::ip::tcp::socket tcp_;
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
};

}  // namespace tether::client::detail
