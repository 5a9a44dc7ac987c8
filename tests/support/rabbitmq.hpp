#pragma once
// A private RabbitMQ 3.10 node with the MQTT plugin, for broker tests: its own folder
// (configuration, Mnesia database, logs), free loopback ports (AMQP, MQTT, Erlang
// distribution) and its own Erlang port mapper on a free port, so that nothing is shared
// with another test or a system RabbitMQ. A node takes seconds to boot: start one per
// test suite, not per test.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tether::test {

// A server in the background, as the RabbitMQ and NATS helpers run them: argv without a
// shell, `env` added to ours, stdout and stderr appended to `output`, its own process
// group, SIGKILL if the test process dies. Throws std::runtime_error if fork fails.
[[nodiscard]] pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          const std::filesystem::path& output);
// Sends `signal`, waits up to `grace` for the process to exit, then SIGKILLs its whole
// process group; reaps it.
void end_process(pid_t pid, int signal, std::chrono::milliseconds grace);

class rabbitmq_node {
public:
    // Boots the node and waits until it says it has started and its MQTT port accepts.
    // Throws std::runtime_error with the end of what it printed if it does not within 90 s
    // (everything it started is then ended).
    rabbitmq_node();
    ~rabbitmq_node();  // stops the node (then SIGKILL), ends its epmd, removes the folder
    rabbitmq_node(const rabbitmq_node&) = delete;
    rabbitmq_node& operator=(const rabbitmq_node&) = delete;

    [[nodiscard]] std::uint16_t mqtt_port() const { return mqtt_port_; }
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

    // Graceful stop (SIGTERM: the script runs `rabbitmqctl stop`); durable queues, and with
    // them persistent MQTT sessions, are kept in the Mnesia folder for start().
    void stop();
    // Starts it again on the same ports with the same database. Throws as the constructor.
    void start();

private:
    std::filesystem::path dir_;
    std::uint16_t amqp_port_ = 0, mqtt_port_ = 0, dist_port_ = 0, epmd_port_ = 0;
    pid_t pid_ = -1;       // the rabbitmq-server script, leader of its process group
    pid_t epmd_pid_ = -1;  // the port mapper, started by us so that we can end it
};

}  // namespace tether::test
