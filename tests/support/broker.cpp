#include "broker.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tether::test {

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error("free_port: no port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool wait_for_port(std::uint16_t port, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port);
        const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(fd);
        if (ok) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

mosquitto_broker::mosquitto_broker(broker_options options) : options_(std::move(options)) {
    char tmpl[] = "/tmp/tether-broker-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    port_ = free_port();
    std::ofstream conf(dir_ / "mosquitto.conf");
    // Run as root, mosquitto switches to the user "mosquitto", who could not write here.
    conf << "user root\n";
    conf << "listener " << port_ << " 127.0.0.1\n";
    conf << "allow_anonymous " << (options_.anonymous ? "true" : "false") << "\n";
    conf << "persistence " << (options_.persistence ? "true" : "false") << "\n";
    conf << "persistence_location " << dir_.string() << "/\n";
    conf << "log_dest file " << (dir_ / "mosquitto.log").string() << "\n";
    conf << "log_type error\nlog_type warning\nlog_type notice\n";
    if (options_.log_packets) conf << "log_type debug\nlog_type subscribe\nlog_type unsubscribe\n";
    conf << "max_queued_messages 100000\n";
    if (!options_.users.empty()) {
        const auto file = dir_ / "passwords";
        for (const auto& [user, password] : options_.users) {
            const std::string cmd = "mosquitto_passwd -b " + std::string(std::filesystem::exists(file) ? "" : "-c ") +
                                    file.string() + " " + user + " " + password + " >/dev/null 2>&1";
            if (std::system(cmd.c_str()) != 0) throw std::runtime_error("mosquitto_passwd failed");
        }
        conf << "password_file " << file.string() << "\n";
    }
    if (!options_.tls_cert.empty()) {
        conf << "certfile " << options_.tls_cert << "\nkeyfile " << options_.tls_key << "\n";
        if (!options_.tls_ca.empty()) conf << "cafile " << options_.tls_ca << "\n";
        if (options_.require_client_certificate) conf << "require_certificate true\n";
    }
    conf << options_.extra_config << "\n";
    conf.close();
    start();
}

mosquitto_broker::~mosquitto_broker() {
    stop(SIGKILL);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void mosquitto_broker::start() {
    if (pid_ > 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a test that crashed
        const std::string conf = (dir_ / "mosquitto.conf").string();
        ::execlp("mosquitto", "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    if (pid_ < 0 || !wait_for_port(port_, std::chrono::seconds(10))) {
        throw std::runtime_error("mosquitto did not start on port " + std::to_string(port_) + "; see " +
                                 (dir_ / "mosquitto.log").string());
    }
}

void mosquitto_broker::set_password(const std::string& user, const std::string& password) {
    const std::string cmd = "mosquitto_passwd -b " + (dir_ / "passwords").string() + " " + user + " " + password +
                            " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("mosquitto_passwd failed");
}

std::string mosquitto_broker::log() const {
    std::ifstream in(dir_ / "mosquitto.log", std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::size_t mosquitto_broker::log_count(const std::string& text) const {
    std::istringstream lines(log());
    std::size_t n = 0;
    for (std::string line; std::getline(lines, line);) n += line.find(text) != std::string::npos ? 1 : 0;
    return n;
}

void mosquitto_broker::stop(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

}  // namespace tether::test
