#pragma once
// A private device cloud for the device tests: a CA, a mosquitto with TLS, client
// certificates and the ACL of PROTOCOL.md §4 (cloud/provisioning's own broker_config), a
// device kit in the layout of §5, and a scripted cloud: a client with the service's
// identity that answers provisioning requests with cloud/provisioning's functions. The
// device code itself never links cloud/: only this test does.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "broker.hpp"
#include "test_files.hpp"
#include "process.hpp"
#include "provisioning/broker_config.hpp"
#include "provisioning/certificate_authority.hpp"
#include "provisioning/keys.hpp"
#include "provisioning/memory_registry.hpp"
#include "provisioning/provisioning_service.hpp"
#include "tether/client/client.hpp"

namespace tether::device::test {

namespace prov = tether::cloud::provisioning;

inline std::string mosquitto_path() {
    for (const char* p : {"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto"}) {
        if (::access(p, X_OK) == 0) return p;
    }
    throw std::runtime_error("mosquitto is not installed");
}

struct test_cloud {
    // `tls_version`: what the broker speaks, "tlsv1.2" (the deployment's choice) or "tlsv1.3"
    // (where a refused client certificate shows only at the client's first read).
    explicit test_cloud(const std::string& tls_version = "tlsv1.2")
        : ca(prov::certificate_authority::create("device test CA", std::chrono::system_clock::now())),
          port(tether::test::free_port()),
          service(ca, registry, {.endpoint = "localhost", .port = port}) {
        const auto now = std::chrono::system_clock::now();
        const auto b = dir.path / "broker";
        std::filesystem::create_directories(b);
        std::filesystem::permissions(b, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                            std::filesystem::perms::others_exec);
        write_text(b / "ca.crt", ca.certificate_pem());
        issue(prov::certificate_kind::server, "localhost", b / "broker.crt", b / "broker.key", now);
        issue(prov::certificate_kind::client, prov::service_common_name, b / "service.crt", b / "service.key", now);
        issue(prov::certificate_kind::client, prov::claim_common_name, b / "claim.crt", b / "claim.key", now);
        write_text(b / "crl.pem", service.current_crl(now));
        write_text(b / "acl", prov::acl_text());
        prov::broker_settings s;
        s.port = port;
        s.ca_file = b / "ca.crt";
        s.cert_file = b / "broker.crt";
        s.key_file = b / "broker.key";
        s.crl_file = b / "crl.pem";
        s.acl_file = b / "acl";
        std::string conf = prov::mosquitto_conf(s);
        if (const auto at = conf.find("tls_version tlsv1.2"); at != std::string::npos) {
            conf.replace(at, std::string("tls_version tlsv1.2").size(), "tls_version " + tls_version);
        }
        write_text(b / "mosquitto.conf", conf);
        start_broker();
    }

    void start_broker() {
        broker = std::make_unique<tether::test::process>(
            std::vector<std::string>{mosquitto_path(), "-c", (dir.path / "broker" / "mosquitto.conf").string()});
        if (!tether::test::wait_for_port(port, std::chrono::seconds(10))) {
            throw std::runtime_error("mosquitto did not start: " + broker->err());
        }
    }
    void stop_broker() {
        if (broker) broker->kill(15);
        if (broker) (void)broker->wait();
        broker.reset();
    }

    // The broker's CRL replaced by `pem`, and the broker told to read it again (SIGHUP).
    void publish_crl(const std::string& pem) {
        const auto crl = dir.path / "broker" / "crl.pem";
        write_text(crl.string() + ".new", pem);
        std::filesystem::permissions(crl.string() + ".new", std::filesystem::perms::owner_read |
                                                                std::filesystem::perms::owner_write |
                                                                std::filesystem::perms::group_read |
                                                                std::filesystem::perms::others_read);
        std::filesystem::rename(crl.string() + ".new", crl);
        broker->kill(SIGHUP);
    }

    // A device kit (PROTOCOL.md §5) in `kit`: ca, claim identity, 'auto' identity.
    void make_kit(const std::filesystem::path& kit, const std::string& serial) const {
        std::filesystem::create_directories(kit / "config");
        std::filesystem::create_directories(kit / "certs");
        const auto b = dir.path / "broker";
        std::filesystem::copy_file(b / "ca.crt", kit / "certs" / "ca.crt");
        std::filesystem::copy_file(b / "claim.crt", kit / "certs" / "claim.crt");
        std::filesystem::copy_file(b / "claim.key", kit / "certs" / "claim.key");
        write_text(kit / "config" / "ioto.json5",
                   "{ mqtt: { endpoint: 'localhost', port: " + std::to_string(port) +
                       ", ca: 'certs/ca.crt', cert: 'auto', key: 'auto', client: 'auto' },\n"
                       "  provision: { root: 'tether', template: 'default', claimCert: 'certs/claim.crt',"
                       " claimKey: 'certs/claim.key' } }\n");
        write_text(kit / "config" / "device.json5", "{ id: 'auto', serialNumber: '" + serial + "' }\n");
    }

    // The cloud service's client options (it may do everything at the broker).
    [[nodiscard]] client::options service_options() const {
        client::options o;
        o.host = "localhost";
        o.port = port;
        o.client_id = "tether-cloud";
        o.tls.enabled = true;
        o.tls.ca_file = (dir.path / "broker" / "ca.crt").string();
        o.tls.cert_file = (dir.path / "broker" / "service.crt").string();
        o.tls.key_file = (dir.path / "broker" / "service.key").string();
        o.reconnect.enabled = false;
        return o;
    }

    temp_dir dir;
    prov::certificate_authority ca;
    std::uint16_t port;
    prov::memory_registry registry;
    prov::provisioning_service service;
    std::unique_ptr<tether::test::process> broker;

private:
    void issue(prov::certificate_kind kind, const std::string& cn, const std::filesystem::path& cert,
               const std::filesystem::path& key, prov::time_point now) {
        auto k = prov::generate_p256_key();
        prov::certificate_profile profile{.kind = kind, .common_name = cn};
        if (kind == prov::certificate_kind::server) profile.names = {"localhost", "127.0.0.1"};
        write_text(cert, ca.issue(*k, profile, now).pem);
        write_text(key, prov::private_key_pem(*k));
    }
};

}  // namespace tether::device::test
