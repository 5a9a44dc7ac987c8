#pragma once
// The broker's side of PROTOCOL.md §4 for mosquitto 2.0: a TLS listener that requires a
// client certificate of the cloud's CA and takes its CN as the user name, checks the
// CRL, and an ACL file that lets each identity touch only its own topics.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace tether::cloud::provisioning {

// The CNs of the cloud's own identities. Thing names can never take them
// (thing_name_problem refuses the "tether-" prefix).
inline constexpr const char* service_common_name = "tether-cloud";
inline constexpr const char* claim_common_name = "tether-claim";

// QoS 1 messages mosquitto hands one client before it has their PUBACKs: at least the
// ingest's batch limit (ingest/handler.hpp, default_batch_limit), see mosquitto_conf.
inline constexpr std::size_t default_max_inflight_messages = 256;

struct broker_settings {
    std::string bind_address = "127.0.0.1";
    std::uint16_t port = 8883;
    std::filesystem::path ca_file{}, cert_file{}, key_file{}, crl_file{}, acl_file{};
    std::filesystem::path persistence_dir{};  // empty: no persistence
    // mosquitto started as root switches to this user after reading its configuration
    // (and before it opens the files above). Empty: no `user` line; mosquitto then
    // switches to "mosquitto" if started as root, or stays who it is.
    std::string run_as_user{};
    std::size_t max_inflight_messages = default_max_inflight_messages;
};

// mosquitto.conf for `settings`. Paths are written as given (make them absolute).
[[nodiscard]] std::string mosquitto_conf(const broker_settings& settings);

// The ACL file: the cloud service may do everything; every certificate may publish under
// ioto/service/<CN>/ (and $aws/rules/<rule>/ioto/service/<CN>/, the basic-ingest form),
// read ioto/device/<CN>/ and ioto/account/all/, and use tether/provision/<client id>/;
// the claim identity is denied everything under ioto/ and $aws/, so it can only provision.
[[nodiscard]] std::string acl_text();

}  // namespace tether::cloud::provisioning
