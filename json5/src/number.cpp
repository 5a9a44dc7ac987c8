// Numbers: the grammar is checked here, character by character, and only then is the
// token converted, so that conversion (std::from_chars, locale-independent) never sees
// anything but digits, one '.', an exponent and a '-'.

#include "number.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

namespace tether::json5::detail {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// ASCII characters that may not touch a number. Non-ASCII letters after a number are
// refused by the parser, which expects ',' or a closing bracket there.
bool may_not_follow(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '$' || c == '_' ||
           c == '\\' || c == '.';
}

number_scan failure(std::size_t at, std::string message) {
    number_scan r;
    r.error = std::move(message);
    r.error_at = at;
    return r;
}

// A decimal token whose double conversion over- or underflowed: which of the two, from
// the position of its first significant digit and its exponent. `digits` holds only
// digits and at most one '.'; the caller has checked it is not all zeros.
bool overflows(std::string_view digits, long long exponent) {
    long long magnitude = 0;  // the power of ten of the first significant digit, plus one
    const std::size_t point = digits.find('.');
    const std::size_t int_digits = point == std::string_view::npos ? digits.size() : point;
    const std::size_t first = digits.find_first_not_of("0.");
    magnitude = first < int_digits ? static_cast<long long>(int_digits - first)
                                   : -static_cast<long long>(first - int_digits - 1);
    return magnitude + exponent > 0;
}

nlohmann::json decimal_value(std::string_view token, bool negative, bool is_integer) {
    // from_chars takes '-' but not '+'.
    const std::string_view unsigned_part = token.substr(token[0] == '+' || token[0] == '-' ? 1 : 0);
    if (is_integer) {
        std::int64_t i = 0;
        const std::string_view signed_part = token.substr(token[0] == '+' ? 1 : 0);
        if (std::from_chars(signed_part.data(), signed_part.data() + signed_part.size(), i).ec == std::errc{}) {
            return i;
        }
        std::uint64_t u = 0;
        if (!negative &&
            std::from_chars(unsigned_part.data(), unsigned_part.data() + unsigned_part.size(), u).ec == std::errc{}) {
            return u;
        }
    }
    double d = 0;
    const auto [ptr, ec] = std::from_chars(unsigned_part.data(), unsigned_part.data() + unsigned_part.size(), d);
    if (ec == std::errc::result_out_of_range) {
        const std::size_t e = unsigned_part.find_first_of("eE");
        const std::string_view mantissa = unsigned_part.substr(0, e);
        long long exponent = 0;
        if (e != std::string_view::npos) {
            std::string_view digits = unsigned_part.substr(e + 1);
            const bool exponent_negative = digits[0] == '-';
            if (digits[0] == '+' || digits[0] == '-') digits.remove_prefix(1);
            // Saturate: an exponent of a billion digits is as infinite as one of ten.
            for (const char c : digits) {
                exponent = exponent * 10 + (c - '0');
                if (exponent > 1'000'000'000'000LL) break;
            }
            if (exponent_negative) exponent = -exponent;
        }
        d = overflows(mantissa, exponent) ? std::numeric_limits<double>::infinity() : 0.0;
    }
    return negative ? -d : d;
}

nlohmann::json hex_value_of(std::string_view digits, bool negative) {
    std::uint64_t u = 0;
    bool fits = true;
    double d = 0;
    for (const char c : digits) {
        const auto v = static_cast<unsigned>(hex_value(c));
        if (fits && u > (std::numeric_limits<std::uint64_t>::max() >> 4)) {
            fits = false;
            d = static_cast<double>(u);
        }
        if (fits) {
            u = (u << 4) | v;
        } else {
            d = d * 16 + v;
        }
    }
    if (!fits) return negative ? -d : d;
    if (!negative) {
        if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return static_cast<std::int64_t>(u);
        return u;
    }
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return -static_cast<std::int64_t>(u);
    if (u == static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1) {
        return std::numeric_limits<std::int64_t>::min();
    }
    return -static_cast<double>(u);
}

}  // namespace

number_scan scan_number(std::string_view text, std::size_t start) {
    std::size_t p = start;
    const auto at = [&](std::size_t i) { return i < text.size() ? text[i] : '\0'; };
    bool negative = false;
    if (at(p) == '+' || at(p) == '-') {
        negative = at(p) == '-';
        ++p;
    }
    const auto finish = [&](nlohmann::json value, std::size_t end) {
        if (end < text.size() && may_not_follow(text[end])) {
            return failure(end, "a number must not be followed directly by '" + std::string(1, text[end]) + "'");
        }
        number_scan r;
        r.value = std::move(value);
        r.end = end;
        return r;
    };
    for (const std::string_view word : {std::string_view("Infinity"), std::string_view("NaN")}) {
        if (text.substr(p, word.size()) == word) {
            const double v = word == "NaN" ? std::numeric_limits<double>::quiet_NaN()
                                           : std::numeric_limits<double>::infinity();
            return finish(negative ? -v : v, p + word.size());
        }
    }
    if (at(p) == '0' && (at(p + 1) == 'x' || at(p + 1) == 'X')) {
        const std::size_t digits = p + 2;
        std::size_t q = digits;
        while (q < text.size() && hex_value(text[q]) >= 0) ++q;
        if (q == digits) return failure(q, "expected hexadecimal digits after '0x'");
        return finish(hex_value_of(text.substr(digits, q - digits), negative), q);
    }
    const std::size_t int_start = p;
    while (is_digit(at(p))) ++p;
    const std::size_t int_digits = p - int_start;
    if (int_digits > 1 && text[int_start] == '0') {
        return failure(int_start, "leading zeros are not allowed (write 0x for hexadecimal)");
    }
    bool is_integer = true;
    std::size_t fraction_digits = 0;
    if (at(p) == '.') {
        is_integer = false;
        ++p;
        while (is_digit(at(p))) ++p, ++fraction_digits;
    }
    if (int_digits == 0 && fraction_digits == 0) {
        return failure(start, int_digits == 0 && !is_integer ? "expected digits before or after '.'"
                                                             : "expected a number after the sign");
    }
    if (at(p) == 'e' || at(p) == 'E') {
        is_integer = false;
        ++p;
        if (at(p) == '+' || at(p) == '-') ++p;
        const std::size_t exponent_start = p;
        while (is_digit(at(p))) ++p;
        if (p == exponent_start) return failure(p, "expected digits in the exponent");
    }
    return finish(decimal_value(text.substr(start, p - start), negative, is_integer), p);
}

}  // namespace tether::json5::detail
