#pragma once
// The byte stream under MQTT: TCP, TLS over TCP, or a Unix-domain stream socket.
// Opening resolves the host and tries each address in turn (IPv6 and IPv4 alike), from a
// chosen local address when options::bind_address says so, then runs the TLS handshake with
// SNI, ALPN and verification as the options say. With options::unix_socket it connects to
// that path instead (TLS is refused there: it runs over TCP only).

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
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

// A TLS context for these options: trust store (ca_file and/or ca_path; the system's store
// when neither is set, or also with use_os_certs), client certificate and key, cipher list,
// lowest TLS version, ALPN list, verification on unless turned off by name. Errors: the
// OpenSSL error of a file or directory that cannot be read or a key that does not match
// its certificate; std::errc::invalid_argument for a cipher list OpenSSL accepts nothing
// from, a version other than "", "tlsv1.2" and "tlsv1.3", or an ALPN list it refuses.
std::unique_ptr<asio::ssl::context> make_tls_context(const tls_options& tls, std::error_code& ec);

class transport {
public:
    explicit transport(const asio::any_io_executor& ex) : tcp_(ex), local_(ex) {}

    // Connects to `to` (or to opts.unix_socket when set), binding to opts.bind_address
    // first when set, and shakes hands when `tls` is set. Errors: resolver errors (of the
    // host or of the bind address), the last address's connect or bind error,
    // std::errc::address_family_not_supported when the bind address has no address of the
    // host's family, std::errc::invalid_argument for TLS over a Unix socket, the local
    // socket's connect error (e.g. no_such_file_or_directory), TLS errors (a certificate
    // that fails verification gives SSL_R_CERTIFICATE_VERIFY_FAILED).
    asio::awaitable<std::error_code> open(const endpoint& to, const options& opts, asio::ssl::context* tls);

    // Connects to the first of `endpoints` that accepts, in order (IPv6 and IPv4 alike),
    // from the first address of `bind_to` with the same family when `bind_to` is not empty.
    // Errors: the last endpoint's connect or bind error; asio::error::not_found when there
    // are no endpoints; std::errc::address_family_not_supported when no endpoint has the
    // family of an address in `bind_to`.
    asio::awaitable<std::error_code> connect_any(const std::vector<asio::ip::tcp::endpoint>& endpoints,
                                                 const std::vector<asio::ip::tcp::endpoint>& bind_to = {});

    // Start a read or a write of some bytes; `handler(std::error_code, std::size_t)` runs
    // when it completes. One read and one write may be under way at once. Nothing is
    // allocated here: the handler goes straight to the socket.
    template <class Handler>
    void async_read_some(std::span<std::uint8_t> into, Handler&& handler) {
        const auto buffer = asio::buffer(into.data(), into.size());
        if (tls_) {
            tls_->async_read_some(buffer, std::forward<Handler>(handler));
        } else if (is_local_) {
            local_.async_read_some(buffer, std::forward<Handler>(handler));
        } else {
            tcp_.async_read_some(buffer, std::forward<Handler>(handler));
        }
    }
    template <class Handler>
    void async_write_some(std::span<const std::uint8_t> bytes, Handler&& handler) {
        const auto buffer = asio::buffer(bytes.data(), bytes.size());
        if (tls_) {
            tls_->async_write_some(buffer, std::forward<Handler>(handler));
        } else if (is_local_) {
            local_.async_write_some(buffer, std::forward<Handler>(handler));
        } else {
            tcp_.async_write_some(buffer, std::forward<Handler>(handler));
        }
    }

    // Closes at once; reads and writes under way complete with operation_aborted.
    void close() noexcept;

private:
    asio::awaitable<std::error_code> open_local(const std::string& path);

    asio::ip::tcp::socket tcp_;
    asio::local::stream_protocol::socket local_;
    bool is_local_ = false;
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
};

}  // namespace tether::client::detail
