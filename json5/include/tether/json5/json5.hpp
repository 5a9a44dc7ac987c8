#pragma once
// A reader for JSON5 (https://spec.json5.org, version 1.0.0) into nlohmann::json, the one
// JSON value type of the project.
//
// The whole grammar is accepted: // and /* */ comments; keys that are ES5.1 IdentifierNames
// (Unicode letters, $, _, \uXXXX escapes) or strings; 'single' and "double" quoted strings
// with every escape (\' \" \\ \b \f \n \r \t \v \0 \xHH \uHHHH, surrogate pairs, escaped line
// breaks, and \ before any other character meaning that character); trailing commas in
// objects and arrays; hexadecimal numbers, leading and trailing decimal points, a leading
// '+', Infinity and NaN; and JSON5's white space (tab, LF, VT, FF, CR, space, U+00A0,
// U+2028, U+2029, U+FEFF and the rest of Unicode's Zs category).
//
// What the value holds:
// - Numbers without a fraction or exponent (hexadecimal ones too) that fit in int64 are
//   integers, those above it that fit in uint64 are unsigned integers, all others doubles.
//   -0 is the integer 0. A decimal number too large for a double is +/-Infinity (as in
//   JavaScript); one too small is 0.
// - Infinity and NaN are doubles (std::numeric_limits<double>::infinity(), quiet_NaN()).
//   nlohmann::json::dump() writes them as null, because JSON cannot express them.
// - A duplicate key: the last value wins, as in ECMAScript 5.1's JSON.parse and the
//   reference implementation. Member order is not kept (nlohmann::json sorts keys).
// - Strings are UTF-8. \u escapes that form a surrogate pair become one code point; a lone
//   surrogate (\uD800 without its pair) cannot be written in UTF-8 and is an error.
//
// What is refused beyond the grammar: input that is not well-formed UTF-8, texts longer than
// limits::max_bytes, and nesting of arrays and objects deeper than limits::max_depth. The
// parser keeps its own stack, so no input can overflow the machine's stack whatever the
// limit. Control characters (U+0000..U+001F) other than line terminators are accepted in
// strings, as the grammar (SourceCharacter) and the reference implementation do, although
// the specification's prose says they must be escaped.

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tether::json5 {

// Bounds on what a text may make the parser do. The defaults suit configuration files.
struct limits {
    std::size_t max_depth = 128;               // arrays and objects inside each other; 0 allows scalars only
    std::size_t max_bytes = 16 * 1024 * 1024;  // the text's size in bytes
};

// Every failure to read a text. what() is exactly "SOURCE:LINE:COL: message", the form
// compilers use, so editors can jump to it. Lines and columns are 1-based; a column counts
// Unicode code points from the start of the line (a tab is one column). Lines end at LF, CR,
// CR LF, U+2028 and U+2029, the ES5.1 line terminators.
class parse_error : public std::runtime_error {
public:
    parse_error(std::string source, std::size_t line, std::size_t column, std::string message);

    std::string source;   // the name given to parse(), or the file's path
    std::size_t line;     // 1-based
    std::size_t column;   // 1-based
    std::string message;  // without the position, e.g. "expected ':' after the key"
};

// Parses `text` as one JSON5 value, surrounded by any white space and comments.
// `source` names the text in errors (usually a file name).
// Throws parse_error for: a text over limits.max_bytes (at 1:1); bytes that are not UTF-8;
// any violation of the grammar, naming what was expected; unterminated strings and comments;
// invalid escapes (\1..\9, \0 followed by a digit, \x or \u without enough hex digits, a
// lone surrogate); numbers with leading zeros or followed directly by a letter or digit;
// nesting over limits.max_depth; anything but white space and comments after the value.
//
//   auto v = tether::json5::parse("{port: 0x22B3, hosts: ['a', 'b',], /* ok */}");
//   v["port"] == 8883;
[[nodiscard]] nlohmann::json parse(std::string_view text, std::string_view source = "<input>",
                                   const limits& bounds = {});

// Reads and parses the file at `path`; errors name the path as given.
// Throws parse_error as parse() does, and also (at 1:1, so that every error has the same
// form) when the file cannot be opened or read (with the OS reason, e.g. "No such file or directory"), is a directory, or
// is larger than limits.max_bytes (checked before reading it).
//
//   auto settings = tether::json5::parse_file("config/ioto.json5");
[[nodiscard]] nlohmann::json parse_file(const std::filesystem::path& path, const limits& bounds = {});

}  // namespace tether::json5
