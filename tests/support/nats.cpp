#include "nats.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "broker.hpp"
#include "rabbitmq.hpp"  // spawn, end_process

namespace tether::test {

namespace {

// The status line of GET `path` on 127.0.0.1:port, or "" when nothing answers in a second.
std::string http_status(std::uint16_t port, const std::string& path) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return {};
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    std::string reply;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
            char buf[256];
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) reply.assign(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return reply.substr(0, reply.find('\r'));
}

// The end of a log, for an error message: the folder is gone by the time anyone reads it.
std::string log_tail(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    const std::string all = text.str();
    return all.substr(all.size() > 400 ? all.size() - 400 : 0);
}

}  // namespace

nats_server::nats_server(std::string server_name, nats_cluster_spec cluster, bool wait_until_ready) {
    char tmpl[] = "/tmp/tether-nats-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    client_port_ = free_port();
    mqtt_port_ = free_port();
    http_port_ = free_port();
    std::ofstream conf(dir_ / "nats.conf");
    conf << "server_name: " << server_name << "\n"
         << "listen: 127.0.0.1:" << client_port_ << "\n"
         << "http: 127.0.0.1:" << http_port_ << "\n"
         << "jetstream { store_dir: \"" << (dir_ / "js").string() << "\" }\n"
         // A message sent to a subscriber on a node that then died comes again after the
         // ack wait (30 s by default): shorter, so that tests of a lost node stay short.
         << "mqtt { listen: 127.0.0.1:" << mqtt_port_ << ", ack_wait: \"5s\" }\n";
    if (!cluster.name.empty()) {
        conf << "cluster {\n  name: " << cluster.name << "\n  listen: 127.0.0.1:" << cluster.port << "\n  routes: [";
        for (std::size_t i = 0; i < cluster.routes.size(); ++i) {
            conf << (i ? ", " : " ") << "\"nats-route://127.0.0.1:" << cluster.routes[i] << "\"";
        }
        conf << " ]\n}\n";
    }
    conf.close();
    try {
        start(wait_until_ready);
    } catch (...) {
        stop(SIGKILL);  // no destructor runs for a constructor that throws
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
        throw;
    }
}

nats_server::~nats_server() {
    stop(SIGKILL);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

bool nats_server::ready() const {
    return http_status(http_port_, "/healthz").find(" 200") != std::string::npos &&
           wait_for_port(mqtt_port_, std::chrono::milliseconds(1));
}

void nats_server::start(bool wait_until_ready) {
    if (pid_ > 0) return;
    pid_ = spawn({"/usr/sbin/nats-server", "-c", (dir_ / "nats.conf").string()}, {}, dir_ / "nats.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (wait_until_ready && !ready()) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("nats-server exited: " + log_tail(dir_ / "nats.log"));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            throw std::runtime_error("nats-server did not become ready: " + log_tail(dir_ / "nats.log"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

void nats_server::stop(int signal) {
    if (pid_ <= 0) return;
    end_process(pid_, signal, std::chrono::seconds(30));
    pid_ = -1;
}

nats_cluster::nats_cluster(std::size_t size) {
    std::vector<std::uint16_t> routes;
    for (std::size_t i = 0; i < size; ++i) routes.push_back(free_port());
    // Started without waiting: no member is ready before a quorum has met.
    for (std::size_t i = 0; i < size; ++i) {
        nodes_.push_back(std::make_unique<nats_server>("n" + std::to_string(i + 1),
                                                       nats_cluster_spec{"tether", routes[i], routes}, false));
    }
    if (!wait_ready(std::chrono::seconds(60))) {
        throw std::runtime_error("the NATS cluster did not become ready; n1 said: " +
                                 log_tail(nodes_[0]->dir() / "nats.log"));
    }
}

bool nats_cluster::wait_ready(std::chrono::milliseconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        bool all = true;
        for (const auto& n : nodes_) all = all && (!n->running() || n->ready());
        if (all) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

}  // namespace tether::test
