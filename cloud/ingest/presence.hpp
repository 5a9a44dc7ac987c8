#pragma once
// Devices coming and going, as the broker reports them. mosquitto 2.0 with
// `log_dest topic` and `connection_messages true` publishes each log line on
// `$SYS/broker/log/<level>`; connections and disconnections are notices (N):
//
//   1795716513: New client connected from 127.0.0.1:44722 as dev1 (p2, c1, k60, u'dev1').
//   1795716513: Client dev1 disconnected.
//   1795716513: Client dev1 closed its connection.
//   1795716513: Socket error on client dev1, disconnecting.
//   1795716513: Bad socket read/write on client dev1: Unknown error.
//   1795716513: Client dev1 has exceeded timeout, disconnecting.
//
// The broker's ACL gives the cloud service read access to that topic alone (not the rest
// of $SYS). mosquitto queues the lines for the service's persistent session while it is
// away (checked on 2.0.11), so they may arrive late: they are applied in the order they
// come, which is the order they happened. A broker's queue saved at its stop and loaded by
// its successor holds lines about clients of the old one: `run`, which starts its broker
// and marks every device offline, tells the handler to ignore lines stamped before that
// (handler::ignore_presence_before).
//
//     auto p = parse_presence("1795716513: Client dev1 disconnected.");
//     // p->client_id == "dev1", p->online == false

#include <cstdint>
#include <optional>
#include <string_view>

namespace tether::cloud::ingest {

inline constexpr const char* presence_topic = "$SYS/broker/log/N";

struct presence {
    std::string_view client_id;  // views into the parsed line
    bool online = false;
    // Connections only: the user name, which is the certificate's CN with
    // use_identity_as_username; empty when the line has none.
    std::string_view user_name;
    // The line's own time, seconds since the epoch (mosquitto's log_timestamp, on by
    // default); nullopt when the line has none.
    std::optional<std::int64_t> time_s;
};

// The connection or disconnection a log line reports; nullopt for any other line (and for
// "already connected, closing old connection", which a new connection of the same client
// follows), or when the client id is empty or longer than storage::max_device_id_bytes.
[[nodiscard]] std::optional<presence> parse_presence(std::string_view line) noexcept;

}  // namespace tether::cloud::ingest
