#pragma once
// The web Device Manager of `tether-cloud run` and `tether-cloud web`: its settings from
// cloud.json5, and its release and revoke, done on run's io thread (the HTTP threads never
// touch the MQTT client or the handler themselves) or, without the ingest, by connections of
// their own. Its live changes come from the caller: run's commits, or web's listener.

#include <asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "ingest/handler.hpp"
#include "ingest/service.hpp"
#include "provisioning/deployment.hpp"
#include "provisioning/provisioning_service.hpp"
#include "schema_source.hpp"
#include "web/server.hpp"

namespace tether::tools::cloud {

// What `web_part` needs; every reference must outlive it.
struct web_inputs {
    const nlohmann::json& settings;  // cloud.json5
    const tether::cloud::provisioning::deployment_layout& layout;
    const tether::cloud::storage::database& db;
    const schema_source& schema;  // the one in use, replaced on SIGHUP
};

// Release and revoke inside `tether-cloud run`: on the io thread (the handler shares the
// registry), the release message through the service's own connection. References must
// outlive the actions.
struct service_inputs {
    const nlohmann::json& settings;
    const tether::cloud::provisioning::deployment_layout& layout;
    tether::cloud::provisioning::registry& registry;
    tether::cloud::provisioning::provisioning_service& provisioning;
    asio::io_context& io;
    tether::cloud::ingest::service& service;
    std::function<void()> reload_broker;  // after the CRL changed (SIGHUP to the mosquitto run started)
    // After a revocation, on the io thread: the ingest refuses the device from its next message.
    std::function<void(const std::string& device)> revoked;
};
[[nodiscard]] tether::cloud::web::actions service_actions(service_inputs in);

// Release and revoke in a process without the ingest (`tether-cloud web`): one at a time,
// on the HTTP thread that asked; the broker a `run` started re-reads the CRL (SIGHUP), and
// the release message and the closing of a revoked device's connection go through
// connections of the service's identity of their own, as `tether-cloud release|revoke`
// do. References must outlive the actions.
struct standalone_inputs {
    const nlohmann::json& settings;
    const tether::cloud::provisioning::deployment_layout& layout;
    tether::cloud::provisioning::registry& registry;
    tether::cloud::provisioning::provisioning_service& provisioning;
};
[[nodiscard]] tether::cloud::web::actions standalone_actions(standalone_inputs in);

// Reads cloud.json5's `web` (all optional):
//   web: {enabled: true, listen: '127.0.0.1', port: 8080, tls: false, cert: 'broker/broker.crt',
//         key: 'broker/broker.key', sessionMinutes: 720, idleMinutes: 30}
// and `admin: {user, passwordHash}`. Throws std::runtime_error naming the setting when one
// has the wrong type or range.
[[nodiscard]] tether::cloud::web::server_settings web_settings(const nlohmann::json& settings,
                                                               const std::filesystem::path& dir);

class web_part {
public:
    // Prepares the server (not yet listening), with the release and revoke `act` does.
    web_part(web_inputs in, tether::cloud::web::actions act);
    ~web_part();  // stops the server
    web_part(const web_part&) = delete;
    web_part& operator=(const web_part&) = delete;

    // False when cloud.json5 has web.enabled false: start() then only says so.
    [[nodiscard]] bool enabled() const noexcept { return enabled_; }
    // Where live changes go (the event streams): publish() from any thread.
    [[nodiscard]] tether::cloud::web::notifier& changes() noexcept { return changes_; }

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
