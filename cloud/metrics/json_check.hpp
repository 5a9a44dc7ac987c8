#pragma once
// Small checks shared by the schema loader and the request parsers: each either yields
// the value or an error naming `path`. Internal to the metrics library.

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "metrics/result.hpp"

namespace tether::cloud::metrics::detail {

inline std::string json_type_name(const nlohmann::json& j) {
    switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "a number";
    default: return "a value of another kind";
    }
}

inline error expected(std::string_view path, std::string_view what, const nlohmann::json& found) {
    return error{std::string(path) + ": expected " + std::string(what) + ", found " + json_type_name(found)};
}

// A non-empty string of at most `max` bytes.
inline std::optional<error> check_name(const nlohmann::json& j, std::string_view path, std::size_t max) {
    if (!j.is_string()) return expected(path, "a string", j);
    const auto& s = j.get_ref<const std::string&>();
    if (s.empty()) return error{std::string(path) + ": must not be empty"};
    if (s.size() > max) return error{std::string(path) + ": longer than " + std::to_string(max) + " bytes"};
    return std::nullopt;
}

// A whole number in [lo, hi]; 5.0 counts as whole, 5.5 does not.
inline std::optional<std::int64_t> whole_number(const nlohmann::json& j, std::int64_t lo, std::int64_t hi) {
    std::int64_t v = 0;
    if (j.is_number_integer()) {
        if (j.is_number_unsigned()) {
            const auto u = j.get<std::uint64_t>();
            if (u > static_cast<std::uint64_t>(hi)) return std::nullopt;
            v = static_cast<std::int64_t>(u);
        } else {
            v = j.get<std::int64_t>();
        }
    } else if (j.is_number_float()) {
        const double d = j.get<double>();
        if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
            return std::nullopt;
        }
        v = static_cast<std::int64_t>(d);
    } else {
        return std::nullopt;
    }
    if (v < lo || v > hi) return std::nullopt;
    return v;
}

inline std::string member_path(std::string_view path, std::string_view name) {
    return path.empty() ? std::string(name) : std::string(path) + "." + std::string(name);
}

inline std::string index_path(std::string_view path, std::size_t i) {
    return std::string(path) + "[" + std::to_string(i) + "]";
}

}  // namespace tether::cloud::metrics::detail
