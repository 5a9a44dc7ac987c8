// UTF-8 and the Unicode classes of ES5.1 section 7, for the JSON5 reader.

#include "unicode.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace tether::json5::detail {
namespace {

#include "unicode_tables.inc"

template <std::size_t N>
bool in(const code_point_range (&table)[N], char32_t cp) noexcept {
    // The first range whose end is not below cp either holds it or lies above it.
    const auto* it = std::lower_bound(std::begin(table), std::end(table), cp,
                                      [](const code_point_range& r, char32_t c) { return r.last < c; });
    return it != std::end(table) && it->first <= cp;
}

}  // namespace

std::size_t decode_utf8(std::string_view text, std::size_t pos, char32_t& cp) noexcept {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char b0 = byte(pos);
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    std::size_t length = 0;
    char32_t min = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        length = 2, min = 0x80, cp = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        length = 3, min = 0x800, cp = b0 & 0x0Fu;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        length = 4, min = 0x10000, cp = b0 & 0x07u;
    } else {
        return 0;  // a continuation byte, C0/C1 (always overlong) or F5..FF (past U+10FFFF)
    }
    if (text.size() - pos < length) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        const unsigned char b = byte(pos + i);
        if ((b & 0xC0u) != 0x80u) return 0;
        cp = (cp << 6) | (b & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return length;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

bool is_line_terminator(char32_t cp) noexcept {
    return cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029;
}

bool is_white_space(char32_t cp) noexcept {
    switch (cp) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0xA0: case 0x2028: case 0x2029: case 0xFEFF:
        return true;
    default:
        return cp > 0x7F && in(space_separator_ranges, cp);
    }
}

bool is_identifier_start(char32_t cp) noexcept {
    if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '$' || cp == '_';
    return in(letter_ranges, cp);
}

bool is_identifier_part(char32_t cp) noexcept {
    if (cp < 0x80) return is_identifier_start(cp) || (cp >= '0' && cp <= '9');
    return cp == 0x200C || cp == 0x200D || in(letter_ranges, cp) || in(part_extra_ranges, cp);
}

std::string describe(char32_t cp) {
    if (cp >= 0x20 && cp < 0x7F) return std::string("'") + static_cast<char>(cp) + "'";
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(cp));
    return buffer;
}

}  // namespace tether::json5::detail
