#pragma once
// The characters JSON5 cares about: UTF-8 decoding and encoding, and the ES5.1 classes of
// white space, line terminators and identifier characters.

#include <cstddef>
#include <string>
#include <string_view>

namespace tether::json5::detail {

struct code_point_range {
    char32_t first;
    char32_t last;
};

// Decodes the code point that starts at text[pos] (pos < text.size()) into `cp`.
// Returns its length in bytes (1..4), or 0 when the bytes there are not well-formed UTF-8
// (RFC 3629: truncated, overlong, a surrogate, past U+10FFFF, a stray continuation byte).
[[nodiscard]] std::size_t decode_utf8(std::string_view text, std::size_t pos, char32_t& cp) noexcept;

// Appends `cp` (a Unicode scalar value: not a surrogate, at most U+10FFFF) as UTF-8.
void append_utf8(std::string& out, char32_t cp);

// ES5.1 7.3 LineTerminator: LF, CR, U+2028, U+2029.
[[nodiscard]] bool is_line_terminator(char32_t cp) noexcept;

// JSON5 white space (spec section 8): TAB, LF, VT, FF, CR, SP, U+00A0, U+2028, U+2029,
// U+FEFF and every other character of category Zs.
[[nodiscard]] bool is_white_space(char32_t cp) noexcept;

// ES5.1 7.6 IdentifierStart without the escape: $, _, or a letter (Lu Ll Lt Lm Lo Nl).
[[nodiscard]] bool is_identifier_start(char32_t cp) noexcept;

// ES5.1 7.6 IdentifierPart without the escape: a start character, Mn, Mc, Nd, Pc, ZWNJ, ZWJ.
[[nodiscard]] bool is_identifier_part(char32_t cp) noexcept;

// How a character is shown in an error message: 'x' for printable ASCII, else U+XXXX.
[[nodiscard]] std::string describe(char32_t cp);

}  // namespace tether::json5::detail
