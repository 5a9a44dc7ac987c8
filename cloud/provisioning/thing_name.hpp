#pragma once
// What may be a thing name (a device id) and a provisioning client id. Both become one
// level of an MQTT topic and a pattern in the broker's ACL (%u, %c), so a '/', '+' or
// '#' in them would let a device reach another device's topics: only a safe alphabet is
// allowed.

#include <string>
#include <string_view>

namespace tether::cloud::provisioning {

// Empty when `name` may be a thing name, else why not. A thing name is 1 to 64 of
// [A-Za-z0-9_:-] (AWS IoT's alphabet; 64, not AWS's 128, because it is the
// certificate's CN), and does not begin with a prefix the cloud keeps for itself:
// "tether-" (its service and claim identities), "pending-" (certificates of step 2 of
// PROTOCOL.md §3) or "claim-" (provisioning client ids).
[[nodiscard]] std::string thing_name_problem(std::string_view name);

// Whether `id` may be the {clientId} level of tether/provision/{clientId}/...: 1 to 128 of
// [A-Za-z0-9_:.-].
[[nodiscard]] bool is_valid_provisioning_client_id(std::string_view id);

}  // namespace tether::cloud::provisioning
