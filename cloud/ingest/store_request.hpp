#pragma once
// The Store bodies of PROTOCOL.md §1, read into what storage writes and reads.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "storage/store.hpp"

namespace tether::cloud::ingest {

// {"key":"cpu","value":55,"type":"number","expires":1700000000000} from `device_id` at
// `now_ms`. Members other than these are ignored (Ioto devices may send more).
// Errors: "body: expected an object", "key: expected a string", "type: expected a string",
// "value: missing", "expires: expected whole ms since the epoch", and what
// storage::check_store_write refuses (empty or long key, type not string/number/boolean,
// a value not of that type, a value too long).
[[nodiscard]] result<storage::store_write> parse_store_set(const nlohmann::json& body, std::string_view device_id,
                                                           std::int64_t now_ms);

// {"key":"cpu"}: the key to read. Errors: "body: expected an object", "key: expected a
// string", "key: must be 1 to 256 bytes".
[[nodiscard]] result<std::string> parse_store_get(const nlohmann::json& body);

}  // namespace tether::cloud::ingest
