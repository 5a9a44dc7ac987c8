#include "certs.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace tether::test {

namespace {

void sh(const std::string& command) {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
}

}  // namespace

test_certs::test_certs() {
    char tmpl[] = "/tmp/tether-certs-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    // mosquitto runs as root here, but make the files readable for any user it may use.
    std::filesystem::permissions(dir, std::filesystem::perms::all);
    const std::string d = dir.string() + "/";
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    auto make_ca = [&](const std::string& name) {
        sh("openssl req -x509 " + key + " -days 2 -subj /CN=" + name + " -keyout " + d + name + ".key -out " + d +
           name + ".pem");
    };
    auto make_leaf = [&](const std::string& name, const std::string& san, const std::string& usage) {
        std::ofstream(d + name + ".ext") << "subjectAltName=" << san << "\nextendedKeyUsage=" << usage << "\n";
        sh("openssl req " + key + " -subj /CN=" + name + " -keyout " + d + name + ".key -out " + d + name + ".csr");
        sh("openssl x509 -req -in " + d + name + ".csr -CA " + d + "ca.pem -CAkey " + d + "ca.key -CAcreateserial -days 2 -out " +
           d + name + ".pem -extfile " + d + name + ".ext");
    };
    make_ca("ca");
    make_ca("other_ca");
    make_leaf("server", "DNS:localhost,IP:127.0.0.1", "serverAuth");
    make_leaf("wrong", "DNS:wrong.example", "serverAuth");
    make_leaf("client", "DNS:client.example", "clientAuth");
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
        std::filesystem::permissions(f.path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                                   std::filesystem::perms::group_read |
                                                   std::filesystem::perms::others_read);
    }
    ca = d + "ca.pem";
    other_ca = d + "other_ca.pem";
    server_cert = d + "server.pem";
    server_key = d + "server.key";
    wrong_host_cert = d + "wrong.pem";
    wrong_host_key = d + "wrong.key";
    client_cert = d + "client.pem";
    client_key = d + "client.key";
}

test_certs::~test_certs() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
}

}  // namespace tether::test
