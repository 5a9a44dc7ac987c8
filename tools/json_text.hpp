#pragma once
// JSON text as mosquitto_sub writes it for -F %j and %J. mosquitto_sub 2.0 prints through
// cJSON, so "byte for byte the same output" means cJSON's spelling: its string escapes, its
// number format (%1.15g, or %1.17g when that does not read back), its pretty layout (tabs,
// "key":<tab>value, arrays as "[1, 2]"), and its lenient reader (leading zeros, control
// bytes inside strings, any byte <= 0x20 as white space). nlohmann::json spells all of
// these differently, so this small reader and printer are written here.

#include <string>
#include <string_view>

namespace tether::tools {

// Appends `text` as a JSON string literal: '"', '\\' and \b \f \n \r \t escaped by name,
// other bytes below 0x20 as \u00XX, every other byte (UTF-8 or not) as it is.
void append_json_string(std::string_view text, std::string& out);

// Appends a number as cJSON prints it: "null" for NaN and infinities, else %1.15g, or
// %1.17g when %1.15g does not read back as the same double.
void append_json_number(double value, std::string& out);

// Reads `text` as one JSON value (white space around it allowed, nothing else) and appends
// it, re-printed compactly or, with `pretty`, laid out with tabs as if it were nested
// `depth` levels deep. Returns false, leaving `out` as it was, when `text` is not JSON or
// nests deeper than 1000 arrays and objects; never reads past `text`.
[[nodiscard]] bool reprint_json(std::string_view text, bool pretty, int depth, std::string& out);

}  // namespace tether::tools
