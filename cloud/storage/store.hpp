#pragma once
// The Store's rows (PROTOCOL.md §1 and §2): one value per device and key, with its type,
// the time of the write and an optional expiry.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "storage/result.hpp"

namespace tether::cloud::storage {

// Limits on what a device may store; longer input is refused, never cut.
inline constexpr std::size_t max_device_id_bytes = 128;
inline constexpr std::size_t max_store_key_bytes = 256;
inline constexpr std::size_t max_store_value_bytes = 65'536;  // the value as JSON text

struct store_write {
    std::string device_id;
    std::string key;
    nlohmann::json value;            // a string, a number or a boolean, as `type` says
    std::string type;                // "string", "number" or "boolean"
    std::int64_t updated_ms = 0;     // when it was written; an older write never replaces a newer
    std::optional<std::int64_t> expires_ms{};  // none: never expires
};

struct store_value {
    nlohmann::json value;
    std::string type;
    std::int64_t updated_ms = 0;
    std::optional<std::int64_t> expires_ms{};
    friend bool operator==(const store_value&, const store_value&) = default;
};

// Why `w` may not be stored, or success: an empty or too long device id or key, a type
// other than string/number/boolean, a value whose JSON type is not `type` (a number must
// be finite), a value longer than max_store_value_bytes as JSON.
[[nodiscard]] result<void> check_store_write(const store_write& w);

}  // namespace tether::cloud::storage
