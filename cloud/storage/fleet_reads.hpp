#pragma once
// Reads for people rather than devices (the web Device Manager): every thing with its
// current certificate, every Store value of one device, and when each device last wrote.
// Free functions over database::with_connection, so that the database class stays the
// writers' interface. Each is one statement: a consistent view on both engines.
//
//   auto things = read_things(db);                       // result<vector<thing_summary>>
//   auto items = read_device_store(db, "dev1", now_ms);  // result<vector<store_entry>>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/database.hpp"

namespace tether::cloud::storage {

struct thing_summary {
    std::string name;
    bool revoked = false;
    std::int64_t provisioned_ms = 0;
    std::string certificate_pem;  // the thing's current certificate; empty when its record is missing
};

struct store_entry {
    std::string key;
    nlohmann::json value;
    std::string type;
    std::int64_t updated_ms = 0;
    std::optional<std::int64_t> expires_ms{};
};

// Every thing the registry holds, by name. Errors: the engine failing.
[[nodiscard]] result<std::vector<thing_summary>> read_things(const database& db);

// Every unexpired Store value of `device_id` (expires_ms > now_ms or none), by key; at
// most `limit` of them. Errors: the engine failing, a stored value that is not JSON (the
// message names the key).
[[nodiscard]] result<std::vector<store_entry>> read_device_store(const database& db, std::string_view device_id,
                                                                 std::int64_t now_ms, std::size_t limit = 1000);

// The time of each device's latest Store write, by device id: activity when the devices
// table has not recorded a device. Errors: the engine failing.
[[nodiscard]] result<std::vector<std::pair<std::string, std::int64_t>>> read_last_writes(const database& db);

}  // namespace tether::cloud::storage
