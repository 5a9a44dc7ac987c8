#pragma once
// The arguments of `tether-cloud init`.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tether::tools::cloud {

struct init_options {
    std::filesystem::path dir;
    std::uint16_t port = 8883;             // the broker's TLS listener
    std::string bind = "127.0.0.1";        // the address it listens on (0.0.0.0: every interface)
    std::vector<std::string> hosts{};      // more names for the broker's certificate; the first is the devices' endpoint
    std::uint16_t web_port = 8080;         // the Device Manager (recorded for `run`)
    bool force = false;                    // replace an existing deployment
};

// The options, or nullopt with `error` set to one line saying what is wrong.
[[nodiscard]] std::optional<init_options> parse_init_options(const std::vector<std::string>& args, std::string& error);

}  // namespace tether::tools::cloud
