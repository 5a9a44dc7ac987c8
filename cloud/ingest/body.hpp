#pragma once
// Reading a request body from a device: bounded in size and in nesting before anything is
// built from it, so that no payload can exhaust memory or the stack.

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace tether::cloud::ingest {

// Larger bodies are refused unread. A Store value may be 64 KiB as JSON
// (storage::max_store_value_bytes), plus its key and the members around it.
inline constexpr std::size_t max_body_bytes = 80 * 1024;
// Deeper bodies are refused: every body of PROTOCOL.md §1 is at most 3 levels deep.
inline constexpr int max_body_depth = 8;

// The parsed body. Errors: "body: larger than 81920 bytes", "body: not JSON",
// "body: nested deeper than 8 levels".
[[nodiscard]] result<nlohmann::json> parse_body(std::string_view payload);

}  // namespace tether::cloud::ingest
