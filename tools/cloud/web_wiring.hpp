#pragma once
// The web Device Manager inside `tether-cloud run`: its settings from cloud.json5, its live
// changes from the ingest's commits, and its release and revoke done on the io thread
// (the HTTP threads never touch the MQTT client or the handler themselves).

#include <asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "ingest/handler.hpp"
#include "ingest/service.hpp"
#include "provisioning/deployment.hpp"
#include "provisioning/provisioning_service.hpp"
#include "schema_source.hpp"
#include "web/server.hpp"

namespace tether::tools::cloud {

// What `web_part` needs from run; every reference must outlive it.
struct web_inputs {
    const nlohmann::json& settings;  // cloud.json5
    const tether::cloud::provisioning::deployment_layout& layout;
    tether::cloud::storage::database& db;
    const schema_source& schema;  // the one in use, replaced on SIGHUP
    tether::cloud::ingest::handler& handler;
    tether::cloud::provisioning::registry& registry;
    tether::cloud::provisioning::provisioning_service& provisioning;
    asio::io_context& io;
    tether::cloud::ingest::service& service;
    std::function<void()> reload_broker;  // after the CRL changed (SIGHUP to the mosquitto run started)
};

// Reads cloud.json5's `web` (all optional):
//   web: {enabled: true, listen: '127.0.0.1', port: 8080, tls: false, cert: 'broker/broker.crt',
//         key: 'broker/broker.key', sessionMinutes: 720, idleMinutes: 30}
// and `admin: {user, passwordHash}`. Throws std::runtime_error naming the setting when one
// has the wrong type or range.
[[nodiscard]] tether::cloud::web::server_settings web_settings(const nlohmann::json& settings,
                                                               const std::filesystem::path& dir);

class web_part {
public:
    // Subscribes to the handler's commits and prepares the server (not yet listening).
    explicit web_part(web_inputs in);
    ~web_part();  // stops the server
    web_part(const web_part&) = delete;
    web_part& operator=(const web_part&) = delete;

    // Starts listening; returns "http://127.0.0.1:8080/" for run's banner. Throws
    // std::runtime_error when the address cannot be bound. Not started when web.enabled is false.
    [[nodiscard]] std::string start();
    void stop();

private:
    web_inputs in_;
    tether::cloud::web::server_settings settings_;
    bool enabled_ = true;
    tether::cloud::web::notifier changes_;
    std::unique_ptr<tether::cloud::web::server> server_;
};

}  // namespace tether::tools::cloud
