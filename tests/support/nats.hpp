#pragma once
// Private NATS 2.9 servers with MQTT (which needs JetStream and a server name), for broker
// tests: each in its own folder with its own JetStream store, on free loopback ports. A
// nats_cluster joins several into one cluster with routes between them, so that MQTT
// sessions and retained messages (JetStream streams) are replicated across nodes.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tether::test {

// A server's place in a cluster.
struct nats_cluster_spec {
    std::string name{};                   // empty: a single server, no cluster
    std::uint16_t port = 0;               // this server's route port
    std::vector<std::uint16_t> routes{};  // every member's route port (its own included)
};

class nats_server {
public:
    // Writes the configuration and starts the server, waiting for it as start() does.
    explicit nats_server(std::string server_name = "n1", nats_cluster_spec cluster = {}, bool wait_until_ready = true);
    ~nats_server();  // SIGKILL if running, removes the folder
    nats_server(const nats_server&) = delete;
    nats_server& operator=(const nats_server&) = delete;

    [[nodiscard]] std::uint16_t mqtt_port() const { return mqtt_port_; }
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
    [[nodiscard]] bool running() const { return pid_ > 0; }

    // SIGTERM: a clean shutdown (JetStream state is on disk); SIGKILL: a crash.
    void stop(int signal = 15);
    // Starts it (again), same ports and store. With wait_until_ready, waits until ready()
    // and throws std::runtime_error with the end of its log if it exits first or is not
    // ready within 60 s. A cluster member is not ready before a quorum of members runs:
    // start them all, then wait (nats_cluster::wait_ready).
    void start(bool wait_until_ready = true);
    // True when the monitoring endpoint /healthz answers 200 (JetStream is current) and the
    // MQTT port accepts connections.
    [[nodiscard]] bool ready() const;

private:
    std::filesystem::path dir_;
    std::uint16_t client_port_ = 0, mqtt_port_ = 0, http_port_ = 0;
    pid_t pid_ = -1;
};

// `size` servers n1..nN in one cluster, started together (JetStream needs a quorum before
// any member is ready), then waited for until each is ready.
class nats_cluster {
public:
    explicit nats_cluster(std::size_t size = 3);
    [[nodiscard]] nats_server& node(std::size_t i) { return *nodes_.at(i); }
    [[nodiscard]] std::size_t size() const { return nodes_.size(); }
    // Waits until every running member is ready(); false after `limit`.
    [[nodiscard]] bool wait_ready(std::chrono::milliseconds limit) const;

private:
    std::vector<std::unique_ptr<nats_server>> nodes_;
};

}  // namespace tether::test
