#pragma once
// The provisioning topics of PROTOCOL.md §3 on a general-purpose broker (<root> is
// tether/provision/{clientId}), and the release command of §2.
//
//     auto t = parse_request_topic("tether/provision/claim-1/certificates/create-from-csr/json");
//     // t->kind == request_kind::create_from_csr, t->client_id == "claim-1"
//     accepted_topic(topic)  // ".../create-from-csr/json/accepted"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tether::cloud::provisioning {

enum class request_kind { create_from_csr, register_thing };

struct request_topic {
    request_kind kind;
    std::string client_id;
    std::string template_name;  // register_thing only
};

// What the cloud subscribes to, to hear every provisioning request.
inline constexpr const char* create_from_csr_filter = "tether/provision/+/certificates/create-from-csr/json";
inline constexpr const char* register_thing_filter = "tether/provision/+/provisioning-templates/+/provision/json";

// The request a topic names, or nullopt when it is not exactly one of the two forms,
// the client id is not valid (is_valid_provisioning_client_id) or the template name is
// not 1 to 64 of [A-Za-z0-9_.-].
[[nodiscard]] std::optional<request_topic> parse_request_topic(std::string_view topic);

// The request's topic for `t` (the inverse of parse_request_topic).
[[nodiscard]] std::string request_topic_name(const request_topic& t);

// Where the answer to a request on `request_topic` goes (AWS: the request topic plus
// "/accepted" or "/rejected").
[[nodiscard]] std::string accepted_topic(std::string_view request_topic);
[[nodiscard]] std::string rejected_topic(std::string_view request_topic);

// The release command (PROTOCOL.md §2): ioto/device/{id}/provision/release with the time
// in ms since the epoch as its body; a device ignores one more than 10 s old.
struct message {
    std::string topic;
    std::string payload;
};
[[nodiscard]] message release_message(std::string_view thing_name, std::chrono::system_clock::time_point now);

}  // namespace tether::cloud::provisioning
