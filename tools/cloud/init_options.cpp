#include "init_options.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace tether::tools::cloud {

namespace {

bool parse_port(const std::string& text, std::uint16_t& out) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) return false;
    out = static_cast<std::uint16_t>(value);
    return true;
}

bool is_ip_address(const std::string& text) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, text.c_str(), buf) == 1 || ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// Host names end up in the broker's certificate and in mosquitto.conf: nothing that could
// end a line or an entry.
bool is_host(const std::string& text) {
    return !text.empty() && text.size() <= 253 && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == ':';
    });
}

}  // namespace

std::optional<init_options> parse_init_options(const std::vector<std::string>& args, std::string& error) {
    init_options o;
    bool have_dir = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const bool takes_value = a == "--port" || a == "--bind" || a == "--host" || a == "--web-port";
        if (takes_value && i + 1 >= args.size()) {
            error = "Error: " + a + " needs a value";
            return std::nullopt;
        }
        if (a == "--port" || a == "--web-port") {
            if (!parse_port(args[++i], a == "--port" ? o.port : o.web_port)) {
                error = "Error: " + a + " takes a port from 1 to 65535, not '" + args[i] + "'";
                return std::nullopt;
            }
        } else if (a == "--bind") {
            o.bind = args[++i];
            if (!is_ip_address(o.bind)) {
                error = "Error: --bind takes an IP address, not '" + o.bind + "'";
                return std::nullopt;
            }
        } else if (a == "--host") {
            o.hosts.push_back(args[++i]);
            if (!is_host(o.hosts.back())) {
                error = "Error: --host takes a host name or IP address, not '" + o.hosts.back() + "'";
                return std::nullopt;
            }
        } else if (a == "--force") {
            o.force = true;
        } else if (a.starts_with("-")) {
            error = "Error: unknown option '" + a + "'";
            return std::nullopt;
        } else if (have_dir) {
            error = "Error: one DIR only (got '" + o.dir.string() + "' and '" + a + "')";
            return std::nullopt;
        } else {
            o.dir = a;
            have_dir = true;
        }
    }
    if (!have_dir) {
        error = "Error: init needs a DIR";
        return std::nullopt;
    }
    return o;
}

}  // namespace tether::tools::cloud
