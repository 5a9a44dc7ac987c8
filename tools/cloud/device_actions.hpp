#pragma once
// Revoking and releasing a device, as `tether-cloud revoke|release DIR THING` and the
// Device Manager's buttons do them (docs/CLOUD.md, "Revocation and release"):
//
//   revoke:  the registry marks the thing and its certificates revoked; the broker's CRL is
//            rewritten atomically and the broker re-reads it (SIGHUP); the device's open
//            connection is closed, so that its next handshake is refused. Its provisioning
//            requests are refused (DeviceRevoked) until it is released.
//   release: the registry lets the thing provision again (its certificate, if still
//            active, is revoked); the CRL likewise; the device is told to provision again
//            (PROTOCOL.md §2) in case it is connected.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "provisioning/deployment.hpp"
#include "provisioning/provisioning_service.hpp"
#include "tether/client/options.hpp"

namespace tether::tools::cloud {

// The database URL of cloud.json5's `database`: {engine: 'sqlite', path} (relative to
// DIR) or {engine: 'postgresql', url}. Throws std::runtime_error for another engine, and
// nlohmann::json's exceptions for a missing or mistyped key.
[[nodiscard]] std::string database_url(const nlohmann::json& settings, const std::filesystem::path& dir);

// `url` fit for a log: a password in a postgresql:// URL's user part is left out
// ("postgresql://tether:secret@db/cloud" -> "postgresql://tether@db/cloud").
[[nodiscard]] std::string without_password(const std::string& url);

// The cloud service's own identity (DIR/service/) at cloud.json5's broker endpoint and port,
// under `client_id`; no reconnecting.
[[nodiscard]] tether::client::options service_client_options(const nlohmann::json& settings,
                                                             const tether::cloud::provisioning::deployment_layout& layout,
                                                             std::string client_id);

// Revokes `thing` in the registry and rewrites the deployment's CRL (0644, atomically).
// nullopt for no such thing or one revoked already; the CRL is then untouched. A released
// thing not yet provisioned again has no active certificate: it is revoked all the same.
// Revocations and releases of one deployment are serialised (a lock file beside the CRL,
// across processes), so the CRL written last lists every revoked certificate. Throws what
// the registry, the CA or write_file_atomically throws, and std::system_error when the
// lock file cannot be opened or locked.
[[nodiscard]] std::optional<tether::cloud::provisioning::revocation> revoke_and_write_crl(
    tether::cloud::provisioning::provisioning_service& provisioning, const tether::cloud::provisioning::registry& registry,
    const tether::cloud::provisioning::deployment_layout& layout, std::string_view thing);

// Releases `thing` in the registry and rewrites the CRL (which lists the certificate it
// held, if that was still active), under the same lock. nullopt for an unknown thing.
// Throws as above.
[[nodiscard]] std::optional<tether::cloud::provisioning::revocation> release_and_write_crl(
    tether::cloud::provisioning::provisioning_service& provisioning,
    const tether::cloud::provisioning::deployment_layout& layout, std::string_view thing);

// Closes the connection the device `thing` holds, if any: the cloud's identity connects
// with the device's client id, which makes the broker close the older connection
// [MQTT-3.1.4-2], and leaves at once (clean session: nothing of it stays). mosquitto keeps
// a connection open when the CRL changes under it; this is what makes a revoked device
// meet its CRL now rather than at its next reconnect. `service` must carry the service's
// certificate (its ACL entry allows any client id). Errors: connect()'s and disconnect()'s.
[[nodiscard]] asio::awaitable<std::error_code> close_device_connection(asio::any_io_executor executor,
                                                                      tether::client::options service,
                                                                      std::string thing);

// Makes the broker a `tether-cloud run` of this deployment started re-read its
// configuration and CRL (SIGHUP). False when no such broker runs (another broker serves
// the deployment, or none does).
[[nodiscard]] bool reload_running_broker(const tether::cloud::provisioning::deployment_layout& layout);

// Runs `op` (a coroutine on an io_context of its own, on this thread) to its end, for at
// most 30 s. Errors: op's, timeout when it did not end in time.
[[nodiscard]] std::error_code on_own_io(
    const std::function<asio::awaitable<std::error_code>(asio::any_io_executor)>& op);

// Publishes `m` (QoS 1, awaiting the broker's PUBACK) on a connection of the service's
// identity of its own, then leaves: how a process without the ingest's connection tells a
// device to provision again. Errors: connect()'s and publish()'s, timeout after 30 s.
[[nodiscard]] std::error_code publish_as_service(const nlohmann::json& settings,
                                                 const tether::cloud::provisioning::deployment_layout& layout,
                                                 const tether::cloud::provisioning::message& m);

}  // namespace tether::tools::cloud
