#pragma once
// The mqtt endpoint setting: host, host:port, mqtt://host[:port] or mqtts://host[:port].

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tether::device::detail {

struct endpoint {
    std::string host;                   // without brackets for an IPv6 literal
    std::optional<std::uint16_t> port;  // when the text names one
    bool tls = true;                    // false for mqtt://
};

// Parses `text`. Returns the endpoint, or sets `error` (a message without file or key) for an
// unknown scheme, an empty host, a path after the host, or a port that is not 1-65535.
[[nodiscard]] std::optional<endpoint> parse_endpoint(std::string_view text, std::string& error);

// A port as text: digits only, 1-65535.
[[nodiscard]] std::optional<std::uint16_t> parse_port(std::string_view digits);

}  // namespace tether::device::detail
