#pragma once
// Everything a client can be told before it connects.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tether/core/packet.hpp"

namespace tether::client {

using core::qos;

// When an operation's awaitable completes.
enum class wait {
    none,  // at once: the packet is queued; sending and retransmission go on in the background
    sent,  // when the packet has been written to the socket
    ack,   // when the server acknowledged it: PUBACK (QoS 1), PUBCOMP (QoS 2), SUBACK, UNSUBACK;
           // a QoS 0 publish has no acknowledgement, so for it `ack` means `sent`
};

// What the offline queue does when it is full and another message is published.
enum class overflow_policy {
    reject_new,   // the new publish fails at once with errc::queue_full (the default)
    drop_oldest,  // the oldest queued message fails with errc::message_dropped, the new one is queued
};

struct will_options {
    std::string topic{};
    std::string payload{};
    core::qos qos = core::qos::at_most_once;
    bool retain = false;

    bool operator==(const will_options&) const = default;
};

struct tls_options {
    bool enabled = false;
    std::string ca_file{};     // PEM; empty: the system's default trust store
    std::string cert_file{};   // PEM client certificate, for mutual TLS
    std::string key_file{};    // PEM private key of cert_file
    std::vector<std::string> alpn{};  // e.g. {"x-amzn-mqtt-ca"}; empty: no ALPN
    std::string server_name{};        // SNI and host-name check; empty: the endpoint's host
    std::string ca_path{};     // a directory of hashed CA certificates (c_rehash), beside or instead of ca_file
    bool use_os_certs = false; // also trust the system's default store when ca_file/ca_path are set
    std::string ciphers{};     // OpenSSL cipher list for TLS 1.2 and below; empty: OpenSSL's default
    std::string version{};     // "tlsv1.2" or "tlsv1.3": the lowest version accepted; empty: TLS 1.2
    // Keeps verifying the certificate chain but not that it names this host (as
    // mosquitto_pub --insecure). Anyone holding any certificate of the same CA can then
    // stand in for the server.
    bool insecure_skip_host_name_check = false;
    // Turns off server certificate and host-name verification. Anyone on the path can
    // then read and change the traffic. For tests against self-signed brokers only.
    bool insecure_skip_verify_dangerous = false;

    bool operator==(const tls_options&) const = default;
};

// Reconnect after a lost connection: exponential backoff with full jitter. Attempt n
// waits a uniformly random time in [0, min(max_delay, initial_delay * 2^n)).
struct reconnect_policy {
    bool enabled = true;
    std::chrono::milliseconds initial_delay{200};
    std::chrono::milliseconds max_delay{30'000};

    bool operator==(const reconnect_policy&) const = default;
};

// One broker address. A name may resolve to several addresses; each is tried in turn.
struct endpoint {
    std::string host = "localhost";
    std::uint16_t port = 1883;

    bool operator==(const endpoint&) const = default;
};

// How much a journaled message survives (docs/PERSISTENCE.md says what each costs).
enum class durability {
    // Written to the OS (one write) before publish() reports it accepted: survives the
    // process crashing or being killed, not a power loss or kernel crash.
    process_crash,
    // As above and made durable (fdatasync) before it is reported accepted: survives power
    // loss. Concurrent publish() calls share one fdatasync (group commit); publish_now()
    // pays one each.
    power_loss,
};

// The durable outbox: every QoS 1/2 message accepted is journaled in `directory` until
// acknowledged, and a client started again with the same client id and directory sends
// the unacknowledged ones first, in order. Needs a client id; one client per directory.
struct persistence_options {
    std::string directory{};  // empty: off (messages live in memory only)
    durability level = durability::process_crash;

    bool operator==(const persistence_options&) const = default;
};

struct options {
    std::string host = "localhost";  // a name may resolve to several addresses; each is tried
    std::uint16_t port = 1883;
    // More brokers (members of one cluster), as Paho's serverURIs: when an attempt fails or
    // a connection is lost, the next attempt goes to the next endpoint, round the list
    // host:port, endpoints[0], endpoints[1], ...
    std::vector<endpoint> more_endpoints{};
    std::string bind_address{};  // the local address to connect from (mosquitto -A); empty: any
    // A Unix-domain socket path to connect to instead of host:port (mosquitto --unix).
    std::string unix_socket{};
    std::string client_id{};           // empty: the server assigns one (needs clean_session)
    std::uint16_t keep_alive_s = 60;
    bool clean_session = true;
    std::optional<will_options> will{};
    std::optional<std::string> user_name{};
    std::optional<std::string> password{};
    tls_options tls{};
    reconnect_policy reconnect{};

    // Largest payload sent (larger: errc::message_too_large). A packet from the server
    // larger than this plus the largest topic and header (65,542 bytes) ends the
    // connection with core::error::packet_too_large instead of being buffered.
    std::size_t max_message_size = 256 * 1024 * 1024;
    // QoS 1/2 messages in flight at once; more wait in the offline queue.
    std::uint16_t window = 64;
    // Messages that wait for a connection or for room in the window.
    std::size_t offline_queue_limit = 10'000;
    overflow_policy overflow = overflow_policy::reject_new;

    // Received QoS 1/2 messages whose acknowledgement may wait at once: taken over by a
    // handler (message::defer_ack) and not yet accepted, or accepted and held behind an
    // earlier one (acknowledgements go in the order messages arrived). The next message
    // closes the connection with errc::too_many_pending_acks, un-accepted tokens become
    // inert, and a persistent session gets the messages again after the reconnect. Bounds
    // the memory of an application that never accepts; 0 counts as 1.
    std::size_t max_pending_acks = 1'000;
    // The durable outbox (docs/PERSISTENCE.md); off by default.
    persistence_options persistence{};

    // TCP connect + TLS handshake + CONNACK, per attempt.
    std::chrono::milliseconds connect_timeout{10'000};
    // How long a PINGREQ may go unanswered before the link counts as dead. 0: half the
    // keep-alive (so a silent link is found within 1.5 keep-alives), or 10 s when
    // keep-alive is off (for ping()).
    std::chrono::milliseconds response_timeout{0};

    bool operator==(const options&) const = default;
};

}  // namespace tether::client
