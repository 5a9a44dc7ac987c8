// `tether-cloud init DIR`: the files a deployment needs, with modes that keep secrets
// secret and let mosquitto (started as root, then running as its own user) read its own;
// the device kit; the administrator's password shown once and stored as a hash; and a
// clear refusal to overwrite a deployment.

#include <pwd.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "deployment_fixture.hpp"
#include "provisioning/password_hash.hpp"
#include "provisioning/verify.hpp"

namespace tether::cloud::provisioning {
namespace {

using namespace test;
using nlohmann::json;

// The JSON5 files init writes are JSON after a leading comment line.
json read_json5(const std::filesystem::path& p) {
    std::string text = read_file(p);
    EXPECT_TRUE(text.starts_with("//")) << p;
    return json::parse(text.substr(text.find('\n')));
}

TEST(Init, WritesEveryFileWithItsMode) {
    temp_folder t;
    const deployment_layout d(t.path / "dep");
    const auto r = init(d.dir, {"--port", "18883", "--host", "mqtt.example.com", "--web-port", "9090"});
    ASSERT_EQ(r.status, 0) << r.err;

    for (const auto& key : {d.ca_key(), d.broker_key(), d.service_key(), d.kit_dir() / "certs" / "claim.key"}) {
        EXPECT_EQ(mode_of(key), 0600u) << key;
    }
    EXPECT_EQ(mode_of(d.settings()), 0600u);  // holds the password hash
    EXPECT_EQ(mode_of(d.ca_dir()), 0700u);
    EXPECT_EQ(mode_of(d.dir), 0755u);          // mosquitto's user must reach broker/
    EXPECT_EQ(mode_of(d.broker_dir()), 0755u);
    for (const auto& pub : {d.broker_conf(), d.broker_acl(), d.broker_ca(), d.broker_cert(), d.crl(), d.ca_cert()}) {
        EXPECT_EQ(mode_of(pub), 0644u) << pub;
    }
    // As root, the broker's key and data belong to the user mosquitto switches to.
    if (::geteuid() == 0) {
        const passwd* pw = ::getpwnam("mosquitto");
        ASSERT_NE(pw, nullptr);
        EXPECT_EQ(owner_of(d.broker_key()), pw->pw_uid);
        EXPECT_EQ(owner_of(d.broker_data()), pw->pw_uid);
        EXPECT_EQ(owner_of(d.ca_key()), 0u);
        EXPECT_NE(read_file(d.broker_conf()).find("\nuser mosquitto\n"), std::string::npos);
    }

    const std::string conf = read_file(d.broker_conf());
    for (const std::string& line : std::vector<std::string>{"listener 18883 127.0.0.1", "require_certificate true",
                                   "use_identity_as_username true", "allow_anonymous false",
                                   "crlfile " + d.crl().string(), "acl_file " + d.broker_acl().string()}) {
        EXPECT_NE(conf.find(line + "\n"), std::string::npos) << line;
    }

    // Every certificate chains to the CA; the broker's names its hosts.
    const std::string ca = read_file(d.ca_cert());
    const auto now = std::chrono::system_clock::now();
    for (const auto& cert : {d.broker_cert(), d.service_cert(), d.kit_dir() / "certs" / "claim.crt"}) {
        EXPECT_EQ(verify_certificate(read_file(cert), ca, now, read_file(d.crl())), "") << cert;
    }
    auto broker_cert = read_certificate(read_file(d.broker_cert()));
    EXPECT_EQ(X509_check_host(broker_cert.get(), "mqtt.example.com", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_ip_asc(broker_cert.get(), "127.0.0.1", 0), 1);
    EXPECT_EQ(read_file(d.kit_dir() / "certs" / "ca.crt"), ca);

    const json kit = read_json5(d.kit_dir() / "config" / "ioto.json5");
    EXPECT_EQ(kit["mqtt"]["endpoint"], "mqtt.example.com");
    EXPECT_EQ(kit["mqtt"]["port"], 18883);
    EXPECT_EQ(kit["mqtt"]["ca"], "certs/ca.crt");
    for (const char* k : {"cert", "key", "client"}) EXPECT_EQ(kit["mqtt"][k], "auto") << k;
    EXPECT_EQ(kit["provision"], json::parse(R"({"root":"tether","template":"default",
        "claimCert":"certs/claim.crt","claimKey":"certs/claim.key"})"));

    const json settings = read_json5(d.settings());
    EXPECT_EQ(settings["web"]["port"], 9090);
    EXPECT_EQ(settings["broker"]["port"], 18883);

    // The password is printed once, and only its hash is on disk.
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex("admin password[^:]*: (\\S+)"))) << r.out;
    const std::string password = m[1];
    const std::string hash = settings["admin"]["passwordHash"];
    EXPECT_TRUE(verify_password(password, hash));
    for (const auto& f : std::filesystem::recursive_directory_iterator(d.dir)) {
        if (f.is_regular_file()) {
            EXPECT_EQ(read_file(f.path()).find(password), std::string::npos) << f.path();
        }
    }
}

TEST(Init, RefusesADirectoryThatHoldsADeploymentUnlessForced) {
    temp_folder t;
    const deployment_layout d(t.path / "dep");
    ASSERT_EQ(init(d.dir).status, 0);
    const std::string ca = read_file(d.ca_cert());
    const auto again = init(d.dir);
    EXPECT_EQ(again.status, 1);
    EXPECT_NE(again.err.find("already holds a deployment"), std::string::npos) << again.err;
    EXPECT_EQ(read_file(d.ca_cert()), ca);  // untouched

    // Half a deployment (no settings yet) counts too.
    std::filesystem::remove(d.settings());
    EXPECT_EQ(init(d.dir).status, 1);

    const auto forced = init(d.dir, {"--force"});
    EXPECT_EQ(forced.status, 0) << forced.err;
    EXPECT_NE(read_file(d.ca_cert()), ca);
}

TEST(Init, RefusesBadOptionsWithOneLine) {
    temp_folder t;
    for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
             {"--port", "0"}, {"--port", "70000"}, {"--port"}, {"--bind", "localhost\nallow_anonymous true"},
             {"--host", "a b"}, {"--frobnicate"}, {"second-dir"}}) {
        const auto r = init(t.path / "dep", bad);
        EXPECT_EQ(r.status, 1) << bad[0];
        EXPECT_TRUE(r.err.starts_with("Error: ")) << r.err;
        EXPECT_FALSE(std::filesystem::exists(t.path / "dep")) << bad[0];
    }
    const auto none = tether::test::run({TETHER_CLOUD_BINARY, "init"});
    EXPECT_EQ(none.status, 1);
    EXPECT_NE(none.err.find("needs a DIR"), std::string::npos);
}

}  // namespace
}  // namespace tether::cloud::provisioning
