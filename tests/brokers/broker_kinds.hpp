#pragma once
// The brokers the client is tested against, behind one shape for typed tests: a port, stop
// and start (same port, same stored sessions), and what the broker does with QoS 2 as
// measured on this machine (tests/brokers/probe.py; docs/BROKERS.md has the matrix).

#include <cstdint>
#include <memory>

#include "broker.hpp"
#include "nats.hpp"
#include "rabbitmq.hpp"

namespace tether::test {

// What a broker answers to a QoS 2 PUBLISH from a client.
enum class qos2_answer {
    pubrec,  // the QoS 2 flow of the specification (mosquitto)
    puback,  // as if it were QoS 1, and delivered at QoS 1 (RabbitMQ 3.10)
    close,   // closes the connection, logging "publish QoS=2 not supported" (NATS 2.9)
};

struct mosquitto_kind {
    static constexpr std::uint8_t granted_for_qos2 = 2;
    static constexpr qos2_answer answer = qos2_answer::pubrec;

    mosquitto_kind() : broker({.persistence = true, .extra_config = "max_inflight_messages 0\n"}) {}
    [[nodiscard]] std::uint16_t port() const { return broker.port(); }
    void stop() { broker.stop(); }
    void start() { broker.start(); }

    mosquitto_broker broker;
};

struct rabbitmq_kind {
    static constexpr std::uint8_t granted_for_qos2 = 1;
    static constexpr qos2_answer answer = qos2_answer::puback;

    [[nodiscard]] std::uint16_t port() const { return node.mqtt_port(); }
    void stop() { node.stop(); }
    void start() { node.start(); }

    rabbitmq_node node;
};

struct nats_kind {
    static constexpr std::uint8_t granted_for_qos2 = 1;
    static constexpr qos2_answer answer = qos2_answer::close;

    [[nodiscard]] std::uint16_t port() const { return server.mqtt_port(); }
    void stop() { server.stop(); }
    void start() { server.start(); }

    nats_server server;
};

}  // namespace tether::test
