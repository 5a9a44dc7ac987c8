#pragma once
// Where a deployment's files live in DIR (made by `tether-cloud init DIR`, used by
// `tether-cloud run DIR`):
//
//   DIR/cloud.json5                   settings (0600: holds the administrator's password hash)
//   DIR/ca/ca.crt, ca.key             the CA (folder 0700, key 0600)
//   DIR/broker/mosquitto.conf, acl    the broker's configuration
//   DIR/broker/ca.crt, broker.crt     what the broker presents and trusts
//   DIR/broker/broker.key             0600, owned by the user mosquitto runs as
//   DIR/broker/crl.pem                revoked certificates, rewritten atomically (0644)
//   DIR/broker/data/                  mosquitto's persistence, owned by its user
//   DIR/service/ca.crt, service.crt, service.key   the cloud's own client identity (CN tether-cloud)
//   DIR/kit/                          the device kit (PROTOCOL.md §5): config/ioto.json5,
//                                     config/device.json5, certs/ca.crt, claim.crt, claim.key

#include <filesystem>
#include <string>

namespace tether::cloud::provisioning {

struct deployment_layout {
    explicit deployment_layout(std::filesystem::path root) : dir(std::move(root)) {}

    std::filesystem::path dir;

    [[nodiscard]] std::filesystem::path settings() const { return dir / "cloud.json5"; }
    [[nodiscard]] std::filesystem::path ca_dir() const { return dir / "ca"; }
    [[nodiscard]] std::filesystem::path ca_cert() const { return ca_dir() / "ca.crt"; }
    [[nodiscard]] std::filesystem::path ca_key() const { return ca_dir() / "ca.key"; }
    [[nodiscard]] std::filesystem::path broker_dir() const { return dir / "broker"; }
    [[nodiscard]] std::filesystem::path broker_conf() const { return broker_dir() / "mosquitto.conf"; }
    [[nodiscard]] std::filesystem::path broker_acl() const { return broker_dir() / "acl"; }
    [[nodiscard]] std::filesystem::path broker_ca() const { return broker_dir() / "ca.crt"; }
    [[nodiscard]] std::filesystem::path broker_cert() const { return broker_dir() / "broker.crt"; }
    [[nodiscard]] std::filesystem::path broker_key() const { return broker_dir() / "broker.key"; }
    [[nodiscard]] std::filesystem::path crl() const { return broker_dir() / "crl.pem"; }
    [[nodiscard]] std::filesystem::path broker_data() const { return broker_dir() / "data"; }
    [[nodiscard]] std::filesystem::path service_dir() const { return dir / "service"; }
    [[nodiscard]] std::filesystem::path service_ca() const { return service_dir() / "ca.crt"; }
    [[nodiscard]] std::filesystem::path service_cert() const { return service_dir() / "service.crt"; }
    [[nodiscard]] std::filesystem::path service_key() const { return service_dir() / "service.key"; }
    [[nodiscard]] std::filesystem::path kit_dir() const { return dir / "kit"; }

    // Whether DIR already holds (part of) a deployment: its settings, CA or broker folder.
    [[nodiscard]] bool exists() const;
};

// One of the deployment's files, whole (a PEM, the settings). Throws std::runtime_error
// naming the file when it cannot be opened or read.
[[nodiscard]] std::string read_deployment_file(const std::filesystem::path& p);

}  // namespace tether::cloud::provisioning
