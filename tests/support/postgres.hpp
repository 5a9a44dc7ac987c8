#pragma once
// A private PostgreSQL 15 server for storage tests: a cluster made by initdb in a
// temporary folder, on a free loopback port, with trust authentication for the user
// "tether". PostgreSQL refuses to run as root, so when the test runs as root the cluster
// belongs to the system user "postgres" (initdb through runuser; the server is started
// under that user directly, so that it dies with the test process). Start one per test
// program; give each test a database of its own (create_database).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace tether::test {

class postgres_server {
public:
    // initdb, then starts the server and waits (up to 60 s) until it accepts connections.
    // Throws std::runtime_error with the end of its log when any step fails.
    postgres_server();
    ~postgres_server();  // stops the server (SIGINT: fast shutdown, then SIGKILL), removes the folder
    postgres_server(const postgres_server&) = delete;
    postgres_server& operator=(const postgres_server&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }

    // Creates an empty database `name` (letters, digits, '_') and returns its connection
    // URI, postgresql://tether@127.0.0.1:PORT/name. Throws std::runtime_error.
    std::string create_database(const std::string& name);

private:
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace tether::test
