// tether-cloud init DIR: everything a deployment needs (deployment.hpp has the layout),
// the SQLite database with its schema (DIR/cloud.db) and a default device schema
// (DIR/schema.json5) included.

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "commands.hpp"
#include "init_options.hpp"
#include "init_schema.hpp"
#include "provisioning/atomic_file.hpp"
#include "provisioning/broker_config.hpp"
#include "provisioning/certificate_authority.hpp"
#include "provisioning/deployment.hpp"
#include "provisioning/keys.hpp"
#include "provisioning/random.hpp"
#include "provisioning/password_hash.hpp"
#include "storage/database.hpp"

namespace tether::tools::cloud {

namespace {

namespace fs = std::filesystem;
namespace prov = tether::cloud::provisioning;
using nlohmann::json;

constexpr auto public_file = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read;
constexpr auto secret_file = fs::perms::owner_read | fs::perms::owner_write;
constexpr auto public_dir = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec;
constexpr auto private_dir = fs::perms::owner_all;

void make_dir(const fs::path& dir, fs::perms mode) {
    fs::create_directories(dir);
    fs::permissions(dir, mode);
}

void write(const fs::path& path, const std::string& content, fs::perms mode) {
    prov::write_file_atomically(path, content, mode);
}

// mosquitto started as root reads its key only after switching to its own user: the key
// must belong to that user, and to nobody else.
struct broker_user {
    std::string name;  // empty: not root, so mosquitto will run as us and read what we own
    uid_t uid = 0;
    gid_t gid = 0;
};

broker_user find_broker_user() {
    if (::geteuid() != 0) return {};
    const passwd* pw = ::getpwnam("mosquitto");
    if (pw == nullptr) throw std::runtime_error("running as root, but there is no user 'mosquitto' to run the broker as");
    return {"mosquitto", pw->pw_uid, pw->pw_gid};
}

void give_to(const broker_user& user, const fs::path& path) {
    if (user.name.empty()) return;
    if (::chown(path.c_str(), user.uid, user.gid) != 0) {
        throw std::system_error(errno, std::generic_category(), "chown " + path.string());
    }
}

// A key pair and a certificate for it, written as PEM: the certificate 0644, the key 0600.
void write_identity(const prov::certificate_authority& ca, const prov::certificate_profile& profile,
                    const fs::path& cert, const fs::path& key, prov::time_point now) {
    auto pkey = prov::generate_p256_key();
    write(key, prov::private_key_pem(*pkey), secret_file);
    write(cert, ca.issue(*pkey, profile, now).pem, public_file);
}

const std::string database_file = "cloud.db";
const std::string schema_file = "schema.json5";

std::string json5_file(const std::string& comment, const json& value) {
    return "// " + comment + "\n" + value.dump(4) + "\n";
}

int init(const init_options& o) {
    const prov::deployment_layout layout(fs::absolute(o.dir));
    if (layout.exists()) {
        if (!o.force) {
            std::cerr << "Error: " << layout.dir.string()
                      << " already holds a deployment; --force replaces it, and every certificate its CA signed stops "
                         "working\n";
            return 1;
        }
        // The database goes too: its things hold certificates of the old CA, and their names
        // would be refused to the devices provisioning again.
        for (const auto& p : {layout.settings(), layout.ca_dir(), layout.broker_dir(), layout.service_dir(),
                              layout.kit_dir(), layout.dir / database_file, layout.dir / (database_file + "-wal"),
                              layout.dir / (database_file + "-shm"), layout.dir / schema_file}) {
            fs::remove_all(p);
        }
    }
    const broker_user user = find_broker_user();
    const auto now = std::chrono::system_clock::now();
    const std::string endpoint = o.hosts.empty() ? "localhost" : o.hosts.front();

    // DIR and DIR/broker must be open to the broker's user; the secrets below are not.
    make_dir(layout.dir, public_dir);
    make_dir(layout.ca_dir(), private_dir);
    const auto ca = prov::certificate_authority::create("tether CA " + prov::random_hex(4), now);
    write(layout.ca_key(), ca.private_key_pem(), secret_file);
    write(layout.ca_cert(), ca.certificate_pem(), public_file);

    make_dir(layout.broker_dir(), public_dir);
    write(layout.broker_ca(), ca.certificate_pem(), public_file);
    std::vector<std::string> names{"localhost", "127.0.0.1", "::1"};
    for (const auto& n : o.hosts) names.push_back(n);
    if (o.bind != "0.0.0.0" && o.bind != "::") names.push_back(o.bind);
    std::set<std::string> seen;
    std::erase_if(names, [&](const std::string& n) { return !seen.insert(n).second; });
    write_identity(ca, {.kind = prov::certificate_kind::server, .common_name = endpoint, .names = names},
                   layout.broker_cert(), layout.broker_key(), now);
    give_to(user, layout.broker_key());
    write(layout.crl(), ca.crl_pem({}, 1, now), public_file);
    write(layout.broker_acl(), prov::acl_text(), public_file);
    make_dir(layout.broker_data(), private_dir);
    give_to(user, layout.broker_data());
    write(layout.broker_conf(),
          prov::mosquitto_conf({.bind_address = o.bind,
                                .port = o.port,
                                .ca_file = layout.broker_ca(),
                                .cert_file = layout.broker_cert(),
                                .key_file = layout.broker_key(),
                                .crl_file = layout.crl(),
                                .acl_file = layout.broker_acl(),
                                .persistence_dir = layout.broker_data(),
                                .run_as_user = user.name}),
          public_file);

    make_dir(layout.service_dir(), private_dir);
    write(layout.service_ca(), ca.certificate_pem(), public_file);
    write_identity(ca, {.kind = prov::certificate_kind::client, .common_name = prov::service_common_name},
                   layout.service_cert(), layout.service_key(), now);

    // The device kit (PROTOCOL.md §5): copied as it is, a device provisions and connects.
    const fs::path kit = layout.kit_dir();
    make_dir(kit, private_dir);
    make_dir(kit / "config", private_dir);
    make_dir(kit / "certs", private_dir);
    write(kit / "certs" / "ca.crt", ca.certificate_pem(), public_file);
    write_identity(ca, {.kind = prov::certificate_kind::client, .common_name = prov::claim_common_name},
                   kit / "certs" / "claim.crt", kit / "certs" / "claim.key", now);
    write(kit / "config" / "ioto.json5",
          json5_file("Device settings from tether-cloud init; 'auto': from provisioning (PROTOCOL.md section 3).",
                     {{"mqtt",
                       {{"endpoint", endpoint},
                        {"port", o.port},
                        {"ca", "certs/ca.crt"},
                        {"cert", "auto"},
                        {"key", "auto"},
                        {"client", "auto"}}},
                      {"provision",
                       {{"root", "tether"},
                        {"template", "default"},
                        {"claimCert", "certs/claim.crt"},
                        {"claimKey", "certs/claim.key"}}}}),
          public_file);
    write(kit / "config" / "device.json5", json5_file("The device; its id comes from provisioning.", {{"id", "auto"}}),
          public_file);

    // The database, with its tables, so that the deployment is whole before its first run.
    if (auto db = tether::cloud::storage::database::open("sqlite:" + (layout.dir / database_file).string()); !db) {
        throw std::runtime_error("database " + (layout.dir / database_file).string() + ": " + db.err().message);
    }
    // Devices' values and the registry: for the service's eyes only (SQLite gives its -wal
    // and -shm files the database's mode).
    fs::permissions(layout.dir / database_file, secret_file);
    write(layout.dir / schema_file, default_device_schema(), public_file);

    // The administrator's password: shown once, stored only as a salted hash.
    const std::string password = prov::generate_password();
    write(layout.settings(),
          json5_file("tether-cloud settings, written by tether-cloud init. Paths are relative to this folder.",
                     {{"broker",
                       {{"bind", o.bind},
                        {"port", o.port},
                        {"endpoint", endpoint},
                        {"names", names},
                        {"config", "broker/mosquitto.conf"},
                        {"crl", "broker/crl.pem"}}},
                      {"ca", {{"cert", "ca/ca.crt"}, {"key", "ca/ca.key"}}},
                      {"service", {{"cert", "service/service.crt"}, {"key", "service/service.key"}, {"ca", "service/ca.crt"}}},
                      {"provisioning", {{"templates", {"default"}}, {"tokenLifetime", 3600}}},
                      // The Device Manager: loopback only unless the administrator opens it.
                      {"web", {{"listen", "127.0.0.1"}, {"port", o.web_port}}},
                      {"database", {{"engine", "sqlite"}, {"path", database_file}}},
                      {"schema", schema_file},
                      {"admin", {{"user", "admin"}, {"passwordHash", prov::hash_password(password)}}}}),
          secret_file);

    std::cout << "Deployment created in " << layout.dir.string() << "\n"
              << "  broker:   mosquitto -c " << layout.broker_conf().string() << "  (TLS on " << o.bind << ":"
              << o.port << ")\n"
              << "  database: " << (layout.dir / database_file).string() << "\n"
              << "  schema:   " << (layout.dir / schema_file).string() << " (the metric CPU from Store writes of cpu)\n"
              << "  web:      http://127.0.0.1:" << o.web_port << "/ (after tether-cloud run)\n"
              << "  devices:  copy " << kit.string() << " to a device; it provisions itself\n"
              << "  admin password (shown only now, stored as a hash): " << password << "\n";
    return 0;
}

}  // namespace

int run_init(const std::vector<std::string>& args) {
    std::string error;
    const auto options = parse_init_options(args, error);
    if (!options) {
        std::cerr << error << "\n";
        return 1;
    }
    try {
        return init(*options);
    } catch (const std::exception& e) {
        std::cerr << "Error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace tether::tools::cloud
