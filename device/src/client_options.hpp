#pragma once
// The client's options from the mqtt section: endpoint, TLS with the configured CA and ALPN.

#include "tether/client/options.hpp"
#include "tether/device/configuration.hpp"

namespace tether::device::detail {

// Options to connect to the configured broker as `client_id` with this certificate and key.
// The mqtt section's host and port must not be 'auto' (checked by the caller).
[[nodiscard]] inline client::options client_options(const configuration& c, const std::string& client_id,
                                                    const std::filesystem::path& cert,
                                                    const std::filesystem::path& key) {
    client::options o;
    o.host = c.mqtt.host.value.empty() ? "localhost" : c.mqtt.host.value;
    o.port = c.mqtt.port.value;
    o.client_id = client_id;
    o.tls.enabled = c.mqtt.tls;
    o.tls.ca_file = c.mqtt.ca.string();
    o.tls.cert_file = cert.string();
    o.tls.key_file = key.string();
    o.tls.alpn = c.mqtt.alpn;
    return o;
}

}  // namespace tether::device::detail
