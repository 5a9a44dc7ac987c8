// tether: MQTT 3.1.1 from the command line.
//
//   tether pub -h host -t topic -m message [-q 1] ...   (flags of mosquitto_pub)
//   tether sub -h host -t filter [-v] [-C n] ...        (flags of mosquitto_sub)

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "options_file.hpp"

namespace tether::tools {

std::function<void(const client::connection_event&)> debug_printer(std::string client_id) {
    return [id = std::move(client_id)](const client::connection_event& e) {
        switch (e.state) {
        case client::connection_state::connected:
            std::cerr << "Client " << id << " connected (session present " << e.session_present << ")\n";
            break;
        case client::connection_state::disconnected:
            std::cerr << "Client " << id << " disconnected" << (e.reason ? ": " + e.reason.message() : "") << "\n";
            break;
        case client::connection_state::reconnecting:
            std::cerr << "Client " << id << " reconnecting, attempt " << e.attempt << "\n";
            break;
        }
    };
}

}  // namespace tether::tools

int main(int argc, char** argv) {
    using namespace tether::tools;
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "help") {
        std::cout << "Usage: tether {pub|sub|bench} [options]   (tether pub --help, tether sub --help)\n";
        return args.empty() ? 1 : 0;
    }
#ifdef TETHER_HAS_BENCH_DEVICES
    if (args[0] == "bench" && args.size() > 1 && args[1] == "devices") {
        return run_bench_devices(std::vector<std::string>(args.begin() + 2, args.end()));
    }
#endif
    if (args[0] == "bench") return run_bench(std::vector<std::string>(args.begin() + 1, args.end()));
    if (args[0] == "config") return run_config(std::vector<std::string>(args.begin() + 1, args.end()));
#ifdef TETHER_HAS_DEVICE
    if (args[0] == "device") return run_device(std::vector<std::string>(args.begin() + 1, args.end()));
#endif
    if (args[0] != "pub" && args[0] != "sub") {
        std::cerr << "Error: unknown command '" << args[0] << "' (try: tether pub, tether sub, tether bench pub)\n";
        return 1;
    }
    const mode m = args[0] == "pub" ? mode::pub : mode::sub;
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    // Anywhere among the flags, and with exit status 1, as mosquitto_pub and mosquitto_sub.
    if (std::find(rest.begin(), rest.end(), "--help") != rest.end()) {
        std::cout << usage(m);
        return 1;
    }
    if (std::find(rest.begin(), rest.end(), "--version") != rest.end()) {
        std::cout << "tether " << args[0] << ": MQTT 3.1.1 (flags of mosquitto_" << args[0] << " 2.0)\n";
        return 1;
    }
    std::string error;
    const auto file = read_options_file(m, error);
    if (!file) {
        std::cerr << error << "\n";
        return 1;
    }
    const auto options = parse_cli(m, with_options_file(*file, rest), error);
    if (!options) {
        // Say so when the file's flags are the trouble: the command line alone parses.
        std::string alone_error;
        if (!file->args.empty() && parse_cli(m, rest, alone_error)) error += " (from " + file->path.string() + ")";
        std::cerr << error << "\nUse 'tether " << args[0] << " --help' to see usage.\n";
        return 1;
    }
    return m == mode::pub ? run_pub(*options) : run_sub(*options);
}
