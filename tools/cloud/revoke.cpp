// tether-cloud revoke DIR THING and tether-cloud release DIR THING: what the Device
// Manager's Revoke and Release buttons do (device_actions.hpp), from a shell, while
// `tether-cloud run DIR` runs or not. The database is shared with a running service
// (SQLite waits for its lock; PostgreSQL serves both).

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "device_actions.hpp"
#include "provisioning/thing_name.hpp"
#include "storage/sql_registry.hpp"
#include "tether/json5/json5.hpp"

namespace tether::tools::cloud {
namespace {

namespace fs = std::filesystem;
namespace prov = tether::cloud::provisioning;

struct opened_deployment {
    explicit opened_deployment(const fs::path& dir)
        : layout(dir),
          settings(tether::json5::parse_file(layout.settings())),
          db(open(settings, dir)),
          registry(*db),
          ca(prov::certificate_authority::load(prov::read_deployment_file(layout.ca_cert()),
                                               prov::read_deployment_file(layout.ca_key()))),
          provisioning(ca, registry, {}) {}

    static std::unique_ptr<tether::cloud::storage::database> open(const nlohmann::json& settings, const fs::path& dir) {
        const std::string url = database_url(settings, dir);
        auto opened = tether::cloud::storage::database::open(url);
        if (!opened) throw std::runtime_error("database " + url + ": " + opened.err().message);
        return std::move(opened.value());
    }

    prov::deployment_layout layout;
    nlohmann::json settings;
    std::unique_ptr<tether::cloud::storage::database> db;
    tether::cloud::storage::sql_registry registry;
    prov::certificate_authority ca;
    prov::provisioning_service provisioning;
};

// DIR and THING, or a usage line on stderr.
std::optional<std::pair<std::string, std::string>> dir_and_thing(const std::vector<std::string>& args,
                                                                  const char* command) {
    if (args.size() != 2 || args[0].starts_with("--") || args[1].starts_with("--")) {
        std::cerr << "Usage: tether-cloud " << command << " DIR THING\n";
        return std::nullopt;
    }
    if (const auto problem = prov::thing_name_problem(args[1]); !problem.empty()) {
        std::cerr << "Error: '" << args[1] << "' is not a thing name: " << problem << "\n";
        return std::nullopt;
    }
    return std::pair{args[0], args[1]};
}

void say_reload(bool reloaded, const prov::deployment_layout& layout) {
    if (!reloaded) {
        std::cerr << "Warning: no broker started by tether-cloud run is running for " << layout.dir.string()
                  << "; the broker that serves it must re-read " << layout.crl().string() << " (SIGHUP)\n";
    }
}

int revoke(const std::string& dir, const std::string& thing) {
    opened_deployment d(dir);
    const auto known = d.registry.find_thing(thing);
    if (!known) {
        std::cerr << "Error: no device named " << thing << "\n";
        return 1;
    }
    const auto revoked = revoke_and_write_crl(d.provisioning, d.registry, d.layout, thing);
    if (!revoked) {
        std::cerr << "Error: " << thing << " is revoked already\n";
        return 1;
    }
    const bool reloaded = reload_running_broker(d.layout);
    say_reload(reloaded, d.layout);
    // The CRL holds from the broker's next handshake on; the device's open connection is
    // closed so that it comes back for one (after the SIGHUP above: mosquitto handles the
    // signal before it gets to this connection's CONNECT).
    const auto service = service_client_options(d.settings, d.layout, "");
    const auto closed = on_own_io([&](asio::any_io_executor ex) { return close_device_connection(ex, service, thing); });
    if (closed) {
        std::cerr << "Warning: cannot close " << thing << "'s connection at the broker: " << closed.message() << "\n";
    }
    std::cout << thing << " is revoked: " << revoked->revoked.size() << " certificate"
              << (revoked->revoked.size() == 1 ? "" : "s") << " in " << d.layout.crl().string()
              << "; it may not provision again until released (tether-cloud release " << dir << " " << thing << ")\n";
    return 0;
}

int release(const std::string& dir, const std::string& thing) {
    opened_deployment d(dir);
    const auto released = release_and_write_crl(d.provisioning, d.layout, thing);
    if (!released) {
        std::cerr << "Error: no device named " << thing << "\n";
        return 1;
    }
    if (!released->revoked.empty()) say_reload(reload_running_broker(d.layout), d.layout);
    // A connected device provisions again when told; one that is away is refused at its
    // next connection (its certificate is revoked) and provisions then.
    const auto sent = publish_as_service(d.settings, d.layout, released->release);
    if (sent) std::cerr << "Warning: cannot send the release message to " << thing << ": " << sent.message() << "\n";
    std::cout << thing << " is released: it may provision again with a new key";
    if (!released->revoked.empty()) std::cout << " (its certificate is revoked)";
    std::cout << "\n";
    return 0;
}

}  // namespace

int run_revoke(const std::vector<std::string>& args) {
    const auto a = dir_and_thing(args, "revoke");
    if (!a) return 1;
    try {
        return revoke(a->first, a->second);
    } catch (const std::exception& e) {
        std::cerr << "Error: " << e.what() << "\n";
        return 1;
    }
}

int run_release(const std::vector<std::string>& args) {
    const auto a = dir_and_thing(args, "release");
    if (!a) return 1;
    try {
        return release(a->first, a->second);
    } catch (const std::exception& e) {
        std::cerr << "Error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace tether::tools::cloud
