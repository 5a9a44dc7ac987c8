// tether-cloud run DIR [--broker-running | --worker NAME]: serves a deployment made by
// `init`. Opens the database cloud.json5 names (creating its schema), starts Debian's
// mosquitto with DIR/broker/mosquitto.conf unless a broker is already running, connects
// the ingest as the cloud service, and runs until SIGINT or SIGTERM.
//
// --worker NAME: one of several processes sharing the ingest (PostgreSQL only): the broker
// runs already, the client id is tether-cloud-NAME (the same NAME after a restart resumes
// the broker's session, and the messages it holds for this worker), the device topics are
// a shared subscription ($share/tether-cloud/...), and no Device Manager is served: run
// `tether-cloud web DIR` beside the workers for it (web.cpp).
//
// Nothing acknowledged is lost on a stop, even a SIGKILL: the ingest commits each message
// before the client acknowledges it (cloud/ingest/service.hpp), and the service's session
// is persistent (clean_session false), so the broker keeps what arrives while it is away.

#include <signal.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "broker_process.hpp"
#include "commands.hpp"
#include "device_actions.hpp"
#include "ingest/service.hpp"
#include "provisioning/deployment.hpp"
#include "storage/sql_registry.hpp"
#include "tether/json5/json5.hpp"
#include "schema_reload.hpp"
#include "schema_source.hpp"
#include "web_wiring.hpp"

namespace tether::tools::cloud {
namespace {

namespace fs = std::filesystem;
namespace prov = tether::cloud::provisioning;

// Starts the deployment's mosquitto. A broker just started has no clients: every device
// is offline until it connects (the broker's log tells the ingest, presence.hpp), and log
// lines from before now, saved in the previous broker's queue, are not about this one.
void start_own_broker(broker_process& mosquitto, const fs::path& conf, tether::cloud::ingest::handler& handler,
                      tether::cloud::storage::database& db) {
    handler.ignore_presence_before(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    mosquitto.start(conf);
    if (auto r = db.mark_all_offline(); !r) std::cerr << "Warning: cannot mark devices offline: " << r.err().message << "\n";
}

// The shared subscription's group of the workers (--worker).
constexpr const char* worker_group = "tether-cloud";

int serve(const fs::path& dir, bool broker_running, const std::string& worker) {
    const prov::deployment_layout layout(dir);
    nlohmann::json settings = tether::json5::parse_file(layout.settings());
    if (!worker.empty()) {
        // Workers share everything through PostgreSQL; a SQLite file is one machine's.
        if (settings.at("database").value("engine", "sqlite") != "postgresql") {
            std::cerr << "Error: --worker needs database.engine 'postgresql' in cloud.json5\n";
            return 1;
        }
        broker_running = true;
        // The Device Manager runs on its own beside the workers: tether-cloud web DIR.
        settings["web"]["enabled"] = false;
    }

    const std::string url = database_url(settings, dir);
    auto opened = tether::cloud::storage::database::open(url);
    if (!opened) {
        std::cerr << "Error: database " << without_password(url) << ": " << opened.err().message << "\n";
        return 1;
    }
    auto& db = *opened.value();
    // A Device Manager in another process (tether-cloud web) hears each commit; on by
    // default, database.announce: false spares the NOTIFY when none runs.
    db.announce_changes(settings.at("database").value("announce", true));
    tether::cloud::storage::sql_registry registry(db);
    const auto ca = prov::certificate_authority::load(prov::read_deployment_file(layout.ca_cert()),
                                                      prov::read_deployment_file(layout.ca_key()));

    const auto& broker = settings.at("broker");
    prov::provisioning_settings ps;
    ps.endpoint = broker.value("endpoint", "localhost");
    ps.port = broker.value<std::uint16_t>("port", 8883);
    if (const auto t = settings.find("provisioning"); t != settings.end() && t->contains("templates")) {
        ps.templates.clear();
        for (const auto& name : t->at("templates")) ps.templates.insert(name.get<std::string>());
    }
    prov::provisioning_service provisioning(ca, registry, ps);

    // The device schema, when cloud.json5 names one (schema: 'schema.json5'): its Store
    // metrics. SIGHUP reads it again (schema_source.hpp).
    const auto schema_key = settings.find("schema");
    schema_source schema(schema_key != settings.end() ? dir / schema_key->get<std::string>() : fs::path());
    if (auto e = schema.load()) {
        std::cerr << "Error: schema: " << *e << "\n";
        return 1;
    }

    auto log = [](std::string_view line) { std::cerr << line << "\n"; };
    tether::cloud::ingest::handler handler(db, registry, provisioning, schema.current(), log);

    broker_process mosquitto(layout.broker_dir() / "mosquitto.pid");
    if (!broker_running) start_own_broker(mosquitto, layout.broker_conf(), handler, db);

    tether::client::options mqtt;
    mqtt.host = ps.endpoint;
    mqtt.port = ps.port;
    mqtt.client_id = worker.empty() ? std::string("tether-cloud") : "tether-cloud-" + worker;
    mqtt.clean_session = false;  // the broker keeps QoS 1 messages while the service is away
    mqtt.tls.enabled = true;
    mqtt.tls.ca_file = layout.service_ca().string();
    mqtt.tls.cert_file = layout.service_cert().string();
    mqtt.tls.key_file = layout.service_key().string();

    asio::io_context io;
    tether::cloud::ingest::service service(io.get_executor(), handler, mqtt, log,
                                           worker.empty() ? std::string() : std::string(worker_group));
    web_part web({settings, layout, db, schema},
                 service_actions({settings, layout, registry, provisioning, io, service,
                                  [&mosquitto] { mosquitto.reload(); },
                                  [&handler](const std::string& device) { handler.forget_device(device); }}));
    if (web.enabled()) {
        // On the io thread, right after each commit: only a copy into bounded queues. While
        // no page listens, publish() would drop the changes anyway: they are not even made
        // (a JSON text per write, on the ingest's one thread).
        handler.observe_commits([&web](const tether::cloud::storage::batch& b) {
            if (web.changes().subscribers() == 0) return;
            for (const auto& c : tether::cloud::web::changes_of(b)) web.changes().publish(c);
        });
    }
    const std::string web_url = web.start();
    int status = 0;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            // A broker just started takes a moment to listen: try for up to 10 s.
            std::error_code ec;
            for (int attempt = 0; attempt < 50; ++attempt) {
                ec = co_await service.start();
                if (!ec || (!broker_running && mosquitto.exited())) break;
                asio::steady_timer wait(io, std::chrono::milliseconds(200));
                co_await wait.async_wait(asio::use_awaitable);
            }
            if (ec) {
                std::cerr << "Error: cannot connect to the broker at " << mqtt.host << ":" << mqtt.port << ": "
                          << ec.message() << "\n";
                status = 1;
                signals.cancel();
                co_return;
            }
            std::cout << "tether-cloud running from " << dir.string() << "\n";
            if (!worker.empty()) {
                std::cout << "  worker:   " << mqtt.client_id << " (shared subscription $share/" << worker_group
                          << "/...)\n";
            }
            std::cout
                      << "  broker:   " << (broker_running ? "already running" : "mosquitto -c " + layout.broker_conf().string())
                      << " (TLS on " << mqtt.host << ":" << mqtt.port << ")\n"
                      << "  database: " << without_password(url) << "\n"
                      << "  web:      " << web_url << " (user admin)\n"
                      << "  devices:  copy " << layout.kit_dir().string() << " to a device\n"
                      << "Stop with Ctrl-C." << std::endl;
        },
        asio::detached);
    // SIGHUP: the device schema again, for the ingest (this thread) and the web part.
    schema_reload reload(io, schema, [&handler](auto s) { handler.replace_schema(std::move(s)); });
    signals.async_wait([&](const std::error_code& ec, int) {
        reload.cancel();
        if (ec) return;
        web.stop();  // ends the event streams before the service goes
        asio::co_spawn(
            io, [&]() -> asio::awaitable<void> { (void)co_await service.stop(); }, [&](std::exception_ptr) { io.stop(); });
    });
    io.run();
    handler.observe_commits({});
    const auto& c = handler.stats();
    std::cout << "tether-cloud stopped: " << c.stored << " stored, " << c.answered << " answered, " << c.provisioning
              << " provisioning, " << c.unknown_device << " from unknown devices, " << c.malformed << " malformed, "
              << c.storage_failed << " storage failures, " << c.transactions << " transactions\n";
    return status;
}

}  // namespace

int run_run(const std::vector<std::string>& args) {
    constexpr const char* usage = "Usage: tether-cloud run DIR [--broker-running | --worker NAME]\n";
    std::string dir;
    std::string worker;
    bool broker_running = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--broker-running") {
            broker_running = true;
        } else if (a == "--worker" && i + 1 < args.size()) {
            worker = args[++i];
            // Part of a client id: a few plain characters.
            const bool plain = !worker.empty() && worker.size() <= 64 &&
                               worker.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                                   std::string::npos;
            if (!plain) {
                std::cerr << "Error: --worker takes a name of 1 to 64 letters, digits, '_' or '-'\n";
                return 1;
            }
        } else if (dir.empty() && !a.starts_with("--")) {
            dir = a;
        } else {
            std::cerr << usage;
            return 1;
        }
    }
    if (dir.empty()) {
        std::cerr << usage;
        return 1;
    }
    try {
        return serve(dir, broker_running, worker);
    } catch (const std::exception& e) {
        std::cerr << "Error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace tether::tools::cloud
