// tether-cloud: the device cloud (DESIGN.md, cloud/).
//
//   tether-cloud init DIR [options]   make a deployment: CA, broker, service identity, device kit
//   tether-cloud run DIR              start the broker (unless running) and the cloud service
//   tether-cloud run DIR --worker N   one of several service processes (PostgreSQL) sharing the work
//   tether-cloud web DIR              the Device Manager alone, beside the workers (PostgreSQL)
//   tether-cloud revoke DIR THING     revoke a device: the broker refuses it, provisioning too
//   tether-cloud release DIR THING    let a device provision again (a new key and certificate)

#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"

int main(int argc, char** argv) {
    using namespace tether::tools::cloud;
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "help") {
        std::cout << "Usage: tether-cloud init DIR [--port 8883] [--bind 127.0.0.1] [--host NAME]... [--web-port 8080] "
                     "[--force]\n"
                     "       tether-cloud run DIR [--broker-running | --worker NAME]\n"
                     "       tether-cloud web DIR       the Device Manager alone, beside run --worker processes\n"
                     "       tether-cloud revoke DIR THING\n"
                     "       tether-cloud release DIR THING\n";
        return args.empty() ? 1 : 0;
    }
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "init") return run_init(rest);
    if (args[0] == "run") return run_run(rest);
    if (args[0] == "web") return run_web(rest);
    if (args[0] == "revoke") return run_revoke(rest);
    if (args[0] == "release") return run_release(rest);
    std::cerr << "Error: unknown command '" << args[0]
              << "' (try: tether-cloud init DIR, run DIR, web DIR, revoke DIR THING, release DIR THING)\n";
    return 1;
}
