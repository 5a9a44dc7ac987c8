#include "endpoint.hpp"

namespace tether::device::detail {

std::optional<std::uint16_t> parse_port(std::string_view digits) {
    if (digits.empty() || digits.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

std::optional<endpoint> parse_endpoint(std::string_view text, std::string& error) {
    endpoint e;
    if (const auto sep = text.find("://"); sep != std::string_view::npos) {
        const std::string_view scheme = text.substr(0, sep);
        if (scheme == "mqtt") {
            e.tls = false;
        } else if (scheme != "mqtts") {
            error = "unknown scheme '" + std::string(scheme) +
                    "' (use host, host:port, mqtt://host[:port] or mqtts://host[:port])";
            return std::nullopt;
        }
        text.remove_prefix(sep + 3);
    }
    if (text.find('/') != std::string_view::npos) {
        error = "expected host[:port] with no path, got '" + std::string(text) + "'";
        return std::nullopt;
    }
    std::string_view host = text;
    std::string_view port;
    if (!text.empty() && text[0] == '[') {  // an IPv6 literal: [::1]:8883
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            error = "'[' without ']' in the host";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') {
                error = "expected ':' and a port after ']'";
                return std::nullopt;
            }
            port = rest.substr(1);
            if (port.empty()) port = "-";  // "[::1]:" names no port: refused below
        }
    } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (port.empty()) port = "-";
    }
    if (host.empty()) {
        error = "the endpoint has no host";
        return std::nullopt;
    }
    e.host = std::string(host);
    if (!port.empty()) {
        e.port = parse_port(port);
        if (!e.port) {
            error = "expected a port 1-65535 after ':', got '" + std::string(port == "-" ? "" : port) + "'";
            return std::nullopt;
        }
    }
    return e;
}

}  // namespace tether::device::detail
