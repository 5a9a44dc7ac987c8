#pragma once
// Test certificates made with the openssl command in a temporary folder: a CA, a server
// certificate for localhost and 127.0.0.1, one for another host name, a client
// certificate, and a second CA that signed none of them.

#include <filesystem>
#include <string>

namespace tether::test {

struct test_certs {
    test_certs();
    ~test_certs();
    test_certs(const test_certs&) = delete;
    test_certs& operator=(const test_certs&) = delete;

    std::filesystem::path dir;
    std::string ca, other_ca;                // PEM certificates
    std::string server_cert, server_key;     // SAN: DNS:localhost, IP:127.0.0.1
    std::string wrong_host_cert, wrong_host_key;  // SAN: DNS:wrong.example
    std::string client_cert, client_key;
};

}  // namespace tether::test
