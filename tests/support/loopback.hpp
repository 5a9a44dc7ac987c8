#pragma once
// Client options for a broker on this machine's loopback: the host, the port and a
// client id; each suite adds the timings it needs.

#include <cstdint>
#include <string>
#include <utility>

#include "tether/client/options.hpp"

namespace tether::test {

inline client::options loopback(std::uint16_t port, std::string client_id) {
    client::options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.client_id = std::move(client_id);
    return o;
}

// The same with the 30 s keep-alive the integration suites use.
inline client::options quiet_loopback(std::uint16_t port, std::string client_id) {
    client::options o = loopback(port, std::move(client_id));
    o.keep_alive_s = 30;
    return o;
}

}  // namespace tether::test
