#include "provisioning/thing_name.hpp"

#include <algorithm>

namespace tether::cloud::provisioning {

namespace {

bool safe_char(char c, bool allow_dot) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':' ||
           c == '-' || (allow_dot && c == '.');
}

}  // namespace

std::string thing_name_problem(std::string_view name) {
    if (name.empty() || name.size() > 64) return "a thing name has 1 to 64 characters";
    if (!std::all_of(name.begin(), name.end(), [](char c) { return safe_char(c, false); })) {
        return "a thing name is letters, digits, '_', ':' and '-'";
    }
    for (const std::string_view reserved : {"tether-", "pending-", "claim-"}) {
        if (name.starts_with(reserved)) return "thing names beginning with '" + std::string(reserved) + "' are reserved";
    }
    return {};
}

bool is_valid_provisioning_client_id(std::string_view id) {
    return !id.empty() && id.size() <= 128 &&
           std::all_of(id.begin(), id.end(), [](char c) { return safe_char(c, true); });
}

}  // namespace tether::cloud::provisioning
