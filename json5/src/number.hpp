#pragma once
// JSON5Number (spec section 6): ES5.1 NumericLiteral (decimal or 0x hexadecimal), Infinity
// and NaN, each with an optional sign, and the nlohmann::json value each one becomes.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tether::json5::detail {

struct number_scan {
    nlohmann::json value;   // when error is empty
    std::size_t end = 0;    // offset just past the number, when error is empty
    std::string error;      // empty on success
    std::size_t error_at = 0;
};

// Reads the number that starts at text[start] (a sign, digit, '.', 'I' or 'N').
// Fails (error set, error_at its offset) for: no digits ("+", ".", "-x"); a leading zero
// followed by a digit; "0x" without hex digits; an exponent without digits; a number
// directly followed by a letter, digit, '$', '_', '\' or '.' (ES5.1 7.8.3: "the source
// character immediately following a NumericLiteral must not be an IdentifierStart or
// DecimalDigit"), e.g. "1a", "0x1g", "1.2.3", "Infinityx".
[[nodiscard]] number_scan scan_number(std::string_view text, std::size_t start);

}  // namespace tether::json5::detail
