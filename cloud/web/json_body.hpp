#pragma once
// A request body as JSON, its nesting bounded before the parser sees it (nlohmann's parser
// recurses once per level: a body of 100,000 '[' would otherwise exhaust the stack).

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace tether::cloud::web {

inline constexpr std::size_t max_body_depth = 8;

// The parsed body. Errors: "body: nested deeper than 8 levels", "body: not JSON".
[[nodiscard]] result<nlohmann::json> parse_json_body(std::string_view body, std::size_t max_depth = max_body_depth);

}  // namespace tether::cloud::web
