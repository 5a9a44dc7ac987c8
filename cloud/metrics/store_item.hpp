#pragma once
// One Store write as `where` expressions and metric fields see it (PROTOCOL.md §1, §6).
// Views only: building one and evaluating an expression over it allocates nothing.

#include <cstdint>
#include <string_view>

namespace tether::cloud::metrics {

// A JSON scalar: what a `where` literal, a Store item's value and every intermediate
// result of an expression can be.
struct scalar {
    enum class kind : std::uint8_t { null, boolean, number, string };

    kind type = kind::null;
    bool boolean = false;
    double number = 0;
    std::string_view string;  // for kind::string; the bytes it views must outlive the scalar

    [[nodiscard]] static constexpr scalar make_null() noexcept { return {}; }
    [[nodiscard]] static constexpr scalar make_bool(bool b) noexcept { return {kind::boolean, b, 0, {}}; }
    [[nodiscard]] static constexpr scalar make_number(double n) noexcept { return {kind::number, false, n, {}}; }
    [[nodiscard]] static constexpr scalar make_string(std::string_view s) noexcept { return {kind::string, false, 0, s}; }
};

// The fields of a Store item, named as in `where` expressions.
enum class item_field : std::uint8_t { key, value, type, device_id, updated };

// A Store write: key, value (string, number or boolean), its type name ("string",
// "number", "boolean"), the writing device and the time of the write (ms since the epoch).
struct store_item {
    std::string_view key;
    scalar value;
    std::string_view type;
    std::string_view device_id;
    double updated = 0;

    [[nodiscard]] scalar field(item_field f) const noexcept {
        switch (f) {
        case item_field::key: return scalar::make_string(key);
        case item_field::value: return value;
        case item_field::type: return scalar::make_string(type);
        case item_field::device_id: return scalar::make_string(device_id);
        case item_field::updated: return scalar::make_number(updated);
        }
        return {};
    }
};

}  // namespace tether::cloud::metrics
