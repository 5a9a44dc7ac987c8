// tether-cloud web DIR: the Device Manager on its own, beside `tether-cloud run DIR --worker
// NAME` processes that share the ingest (PostgreSQL only). It subscribes to no device
// topic, so it takes no message from the workers; it serves the page and its API from the
// shared database, and its live updates from the workers' commits, which announce their
// changes inside each transaction (PostgreSQL NOTIFY, cloud/storage/change_feed.hpp).
//
// Missed notifications (the listener's connection lost and made again) end every open
// event stream: each page reconnects and reads the state again. Pages also read it again
// every 15 s, so a page converges whatever was missed.
//
// Release and revoke work as `tether-cloud release|revoke` do (device_actions.hpp): the
// registry and the CRL in DIR, a SIGHUP to the broker a `run` of DIR started (or a warning
// in the reply that the broker must re-read the CRL), and connections of the service's
// identity of their own for the release message and for closing a revoked device's link.

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "device_actions.hpp"
#include "provisioning/deployment.hpp"
#include "schema_reload.hpp"
#include "schema_source.hpp"
#include "storage/change_listener.hpp"
#include "storage/sql_registry.hpp"
#include "tether/json5/json5.hpp"
#include "web_wiring.hpp"

namespace tether::tools::cloud {
namespace {

namespace fs = std::filesystem;
namespace prov = tether::cloud::provisioning;
namespace storage = tether::cloud::storage;

int serve_web(const fs::path& dir) {
    const prov::deployment_layout layout(dir);
    nlohmann::json settings = tether::json5::parse_file(layout.settings());
    if (settings.at("database").value("engine", "sqlite") != "postgresql") {
        std::cerr << "Error: tether-cloud web needs database.engine 'postgresql' in cloud.json5 (with SQLite, "
                     "tether-cloud run DIR serves the Device Manager itself)\n";
        return 1;
    }
    if (!settings.at("database").value("announce", true)) {
        std::cerr << "Warning: database.announce is false in cloud.json5: the workers announce no changes, so "
                     "pages update only when they read the state again (every 15 s)\n";
    }
    // This command is the Device Manager: web.enabled (which turns it off inside run) does
    // not apply.
    settings["web"]["enabled"] = true;

    const std::string url = database_url(settings, dir);
    auto opened = storage::database::open(url);
    if (!opened) {
        std::cerr << "Error: database " << without_password(url) << ": " << opened.err().message << "\n";
        return 1;
    }
    auto& db = *opened.value();
    storage::sql_registry registry(db);
    const auto ca = prov::certificate_authority::load(prov::read_deployment_file(layout.ca_cert()),
                                                      prov::read_deployment_file(layout.ca_key()));
    prov::provisioning_service provisioning(ca, registry, {});

    const auto schema_key = settings.find("schema");
    schema_source schema(schema_key != settings.end() ? dir / schema_key->get<std::string>() : fs::path());
    if (auto e = schema.load()) {
        std::cerr << "Error: schema: " << *e << "\n";
        return 1;
    }

    web_part web({settings, layout, db, schema}, standalone_actions({settings, layout, registry, provisioning}));
    storage::change_listener listener(
        url,
        [&web](std::vector<storage::live_change> changes) {
            for (auto& c : changes) web.changes().publish({std::move(c.device_id), std::move(c.json)});
        },
        [&web] { web.changes().end_all(); });
    if (auto r = listener.start(); !r) {
        std::cerr << "Error: database " << without_password(url) << ": " << r.err().message << "\n";
        return 1;
    }
    const std::string web_url = web.start();
    std::cout << "tether-cloud web running from " << dir.string() << "\n"
              << "  web:      " << web_url << " (user admin)\n"
              << "  database: " << without_password(url) << " (live changes: LISTEN "
              << storage::change_channel << ")\n"
              << "  devices:  served by tether-cloud run " << dir.string() << " --worker NAME\n"
              << "Stop with Ctrl-C." << std::endl;

    asio::io_context io;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    schema_reload reload(io, schema);  // the web part reads the schema from `schema`
    signals.async_wait([&](const std::error_code&, int) { reload.cancel(); });
    io.run();
    web.stop();  // ends the event streams
    listener.stop();
    std::cout << "tether-cloud web stopped (" << listener.reconnections() << " reconnections to the database)\n";
    return 0;
}

}  // namespace

int run_web(const std::vector<std::string>& args) {
    if (args.size() != 1 || args[0].starts_with("--")) {
        std::cerr << "Usage: tether-cloud web DIR\n";
        return 1;
    }
    try {
        return serve_web(args[0]);
    } catch (const std::exception& e) {
        std::cerr << "Error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace tether::tools::cloud
