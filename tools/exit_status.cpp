#include "exit_status.hpp"

#include <asio/ssl/error.hpp>
#include <iostream>

#include "tether/client/error.hpp"

namespace tether::tools {

bool is_connack_refusal(const std::error_code& ec) noexcept {
    return ec.category() == client::client_category() && ec.value() >= 1 && ec.value() <= 5;
}

int report_connect_error(const std::error_code& ec, bool quiet) {
    if (is_connack_refusal(ec)) {
        // libmosquitto's mosquitto_connack_string(), word for word.
        static constexpr const char* reasons[] = {
            "",
            "Connection Refused: unacceptable protocol version.",
            "Connection Refused: identifier rejected.",
            "Connection Refused: broker unavailable.",
            "Connection Refused: bad user name or password.",
            "Connection Refused: not authorised.",
        };
        if (!quiet) std::cerr << "Connection error: " << reasons[ec.value()] << "\n";
        return ec.value();
    }
    if (is_tls_error(ec)) {
        // mosquitto_pub's words, and then what OpenSSL said (mosquitto prints that only with
        // -d): "unsupported protocol" or "no shared cipher" tells what to change.
        report_error("A TLS error occurred: " + ec.message(), quiet);
        return 1;
    }
    report_error(ec.message(), quiet);
    return 1;
}

bool is_tls_error(const std::error_code& ec) noexcept {
    return ec.category() == asio::error::get_ssl_category() || ec.category() == asio::ssl::error::get_stream_category();
}

void report_error(std::string_view what, bool quiet) {
    if (!quiet) std::cerr << "Error: " << what << "\n";
}

}  // namespace tether::tools
