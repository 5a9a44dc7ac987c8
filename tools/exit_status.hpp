#pragma once
// Error lines and exit statuses of `tether pub` and `tether sub` once they run, as
// mosquitto_pub and mosquitto_sub 2.0 report them: a CONNACK refusal prints
// "Connection error: Connection Refused: not authorised." and exits with the return code
// (1 to 5); a socket error prints "Error: <reason>" and exits with 1; a failed TLS handshake
// prints "Error: A TLS error occurred: <OpenSSL's reason>" and exits with 1 (mosquitto
// exits with 1 or 8 for it, depending on when its loop sees the failure).

#include <string_view>
#include <system_error>

namespace tether::tools {

// Prints the line for a failed connection on stderr (nothing with `quiet`) and returns the
// exit status.
[[nodiscard]] int report_connect_error(const std::error_code& ec, bool quiet);

// Prints "Error: <what>" on stderr unless `quiet`.
void report_error(std::string_view what, bool quiet);

// True for errors of the TLS layer (OpenSSL's, and a TLS stream cut short).
[[nodiscard]] bool is_tls_error(const std::error_code& ec) noexcept;

// True for the CONNACK refusals (return codes 1 to 5).
[[nodiscard]] bool is_connack_refusal(const std::error_code& ec) noexcept;

}  // namespace tether::tools
