#pragma once
// Replies of the cloud to Store and metric reads (PROTOCOL.md §2): a JSON value; null when
// there is no value; {"error": "..."} when the request failed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

namespace tether::device {

// A value or an error. `value` is set exactly when `ec` is empty.
template <class T>
struct store_result {
    std::optional<T> value{};
    std::error_code ec{};        // errc::not_found, wrong_type, bad_reply, cloud_error, or the client's (timeout, ...)
    std::string error_message{}; // cloud_error: the cloud's message; bad_reply: what was wrong

    [[nodiscard]] explicit operator bool() const noexcept { return !ec; }
};

// Larger replies are refused (bad_reply) before they are parsed.
inline constexpr std::size_t max_reply_size = 256 * 1024;

// The reply as a JSON value: errc::bad_reply for text that is not one JSON value (or is
// over max_reply_size), not_found for null, cloud_error for {"error": string}.
[[nodiscard]] store_result<nlohmann::json> parse_store_reply(std::string_view payload);

// The value as T: std::string (a JSON string), double (any number), std::int64_t (an
// integer, or a number with no fraction in range), bool, nlohmann::json (anything).
// errc::wrong_type otherwise.
template <class T>
[[nodiscard]] store_result<T> convert_store_value(store_result<nlohmann::json> reply);

// A number as the device writes it in bodies and prints it: an integer when it is whole
// and within ±2^53 (so 60 reads "60", as the cloud writes its replies, not "60.0"), else
// the double.
[[nodiscard]] nlohmann::json json_number(double value);

}  // namespace tether::device
