#pragma once
// A deployment made by the real `tether-cloud init` in a temporary folder, and its
// broker: Debian's mosquitto started with the configuration init wrote, on a free
// loopback port, stopped (and the folder removed) at the end.

#include "tether/client/options.hpp"
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../support/broker.hpp"
#include "../../support/coro_test.hpp"
#include "../../support/process.hpp"
#include "provisioning/certificate_authority.hpp"
#include "provisioning/deployment.hpp"
#include "provisioning/keys.hpp"

namespace tether::cloud::provisioning::test {

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_text(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

struct temp_folder {
    temp_folder() {
        char tmpl[] = "/tmp/tether-cloud-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
        // mosquitto, started as root, runs as its own user: it must be able to reach DIR.
        std::filesystem::permissions(path, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                               std::filesystem::perms::others_exec);
    }
    ~temp_folder() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    temp_folder(const temp_folder&) = delete;
    temp_folder& operator=(const temp_folder&) = delete;
    std::filesystem::path path;
};

inline tether::test::run_result init(const std::filesystem::path& dir, std::vector<std::string> more = {}) {
    std::vector<std::string> argv{TETHER_CLOUD_BINARY, "init", dir.string()};
    argv.insert(argv.end(), more.begin(), more.end());
    return tether::test::run(argv, {}, std::chrono::seconds(120));
}

// test::process runs a path, not a name looked up in PATH.
inline std::string mosquitto_path() {
    for (const char* p : {"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto"}) {
        if (::access(p, X_OK) == 0) return p;
    }
    throw std::runtime_error("mosquitto is not installed");
}

// A certificate and key in files, as a client needs them.
struct identity {
    std::string cert_file, key_file, serial;
};

struct deployment {
    deployment() : port(tether::test::free_port()), layout(folder.path / "cloud") {
        const auto r = init(layout.dir, {"--port", std::to_string(port)});
        if (r.status != 0) throw std::runtime_error("tether-cloud init failed: " + r.err);
        ca = std::make_unique<certificate_authority>(
            certificate_authority::load(read_file(layout.ca_cert()), read_file(layout.ca_key())));
    }

    void start_broker() {
        broker = std::make_unique<tether::test::process>(
            std::vector<std::string>{mosquitto_path(), "-c", layout.broker_conf().string()});
        if (!tether::test::wait_for_port(port, std::chrono::seconds(10))) {
            throw std::runtime_error("mosquitto did not start: " + broker->err());
        }
    }

    void stop_broker() {
        if (broker) broker->kill(15);
        if (broker) (void)broker->wait();
        broker.reset();
    }

    // A client certificate with CN `cn` from the deployment's CA, in files of the folder.
    identity issue(const std::string& cn) {
        auto key = generate_p256_key();
        const auto issued = ca->issue(*key, {.kind = certificate_kind::client, .common_name = cn},
                                      std::chrono::system_clock::now());
        const auto base = folder.path / ("id-" + std::to_string(next_id++));
        write_text(base.string() + ".crt", issued.pem);
        write_text(base.string() + ".key", private_key_pem(*key));
        return {base.string() + ".crt", base.string() + ".key", issued.serial};
    }

    temp_folder folder;
    std::uint16_t port;
    deployment_layout layout;
    std::unique_ptr<certificate_authority> ca;
    std::unique_ptr<tether::test::process> broker;
    int next_id = 0;
};

inline unsigned mode_of(const std::filesystem::path& p) {
    struct stat st{};
    if (::stat(p.c_str(), &st) != 0) return 0xffffffffu;
    return st.st_mode & 07777;
}

inline uid_t owner_of(const std::filesystem::path& p) {
    struct stat st{};
    ::stat(p.c_str(), &st);
    return st.st_uid;
}

// Client options for a TLS connection to the deployment's broker with `id`'s certificate,
// no reconnecting: a refusal is an answer the tests check.
inline client::options tls_client(const deployment& d, const std::string& client_id, const identity& id) {
    client::options o;
    o.host = "localhost";
    o.port = d.port;
    o.client_id = client_id;
    o.tls.enabled = true;
    o.tls.ca_file = d.layout.ca_cert().string();
    o.tls.cert_file = id.cert_file;
    o.tls.key_file = id.key_file;
    o.reconnect.enabled = false;
    return o;
}

// The cloud service's own identity in the deployment.
inline identity service_identity(const deployment& d) {
    return {d.layout.service_cert().string(), d.layout.service_key().string(), {}};
}


}  // namespace tether::cloud::provisioning::test

// The names every test through a deployment's broker uses (the ingest's, the workers', the
// ACL's): `using namespace tether::cloud::test::broker_names;` after the test's own
// namespace opens.
namespace tether::cloud::test::broker_names {
using namespace std::chrono_literals;
using client::qos;
using client::wait;
using tether::test::run_coro;
}  // namespace tether::cloud::test::broker_names
