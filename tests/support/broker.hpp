#pragma once
// A real mosquitto for integration tests: a config of its own in a temporary folder, a
// free loopback port, started and stopped by the test. Never a broker someone else runs.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tether::test {

struct broker_options {
    bool persistence = false;
    bool anonymous = true;
    std::vector<std::pair<std::string, std::string>> users{};  // user name, password
    // TLS listener (instead of plain TCP) with these PEM files.
    std::string tls_cert{}, tls_key{}, tls_ca{};
    bool require_client_certificate = false;
    std::string extra_config{};  // appended verbatim
    // Logs every packet it receives and sends ("Received SUBSCRIBE from <client id>"), for
    // tests that must know what a client sent; see log().
    bool log_packets = false;
};

class mosquitto_broker {
public:
    explicit mosquitto_broker(broker_options options = {});
    ~mosquitto_broker();  // SIGKILL if still running, and removes its folder
    mosquitto_broker(const mosquitto_broker&) = delete;
    mosquitto_broker& operator=(const mosquitto_broker&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

    // What the broker has logged so far. mosquitto writes a line before it answers the
    // packet it is about, so after a client's PINGRESP, every packet the client sent before
    // its PINGREQ is in here.
    [[nodiscard]] std::string log() const;
    // Lines of log() that contain `text`.
    [[nodiscard]] std::size_t log_count(const std::string& text) const;

    void stop(int signal = 15);  // SIGTERM by default: mosquitto saves persistence
    void start();                // again, same port, same persistence file
    // Changes a user's password in the password file (read again at the next start()).
    void set_password(const std::string& user, const std::string& password);

private:
    broker_options options_;
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

// A free TCP port on 127.0.0.1 at the time of asking.
std::uint16_t free_port();

// Waits until 127.0.0.1:port accepts a connection, or the time passes.
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds limit);

}  // namespace tether::test
