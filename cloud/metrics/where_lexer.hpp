#pragma once
// The tokens of a `where` expression (PROTOCOL.md §6). Used by the parser in where.cpp;
// public so that the grammar can be tested token by token.
//
// Lexical rules:
//   spaces, tabs, CR and LF separate tokens; a LF starts a new line for positions;
//   numbers     -?digits(.digits)?([eE][+-]?digits)?  (a '-' belongs to the number only when
//               a digit follows it at once; there is no '-' operator); finite doubles only;
//   strings     '...' or "...", escapes \\ \' \" \/ \b \f \n \r \t and \uXXXX (a surrogate
//               pair for characters past U+FFFF; a lone surrogate is an error), decoded
//               to UTF-8; no raw control characters (< 0x20); other bytes are kept as they
//               are (strings compare bytewise, so nothing else needs checking);
//   words       [A-Za-z_][A-Za-z0-9_]*: true false null, or a field key value type
//               deviceId updated; any other word is an error;
//   operators   ( ) ! == != < <= > >= && ||  ('=' alone, '&' alone, '|' alone are errors).
// Positions are line:column, both from 1, columns counted in bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/store_item.hpp"

namespace tether::cloud::metrics {

enum class token_kind : std::uint8_t {
    end, error,
    number, string, true_, false_, null_, field,
    lparen, rparen, not_, and_, or_,
    eq, ne, lt, le, gt, ge,
};

struct position {
    std::uint32_t line = 1;
    std::uint32_t column = 1;
};

struct token {
    token_kind kind = token_kind::end;
    position at;             // where the token starts
    double number = 0;       // token_kind::number
    item_field field{};      // token_kind::field
    std::string text;        // token_kind::string: the decoded bytes; token_kind::error: the message
};

class where_lexer {
public:
    explicit where_lexer(std::string_view source) noexcept : source_(source) {}

    // The next token. After token_kind::end or token_kind::error it keeps answering the
    // same kind. An error token's text says what is wrong ("unterminated string",
    // "unknown identifier 'speed'", ...) and its position is where the bad token starts.
    [[nodiscard]] token next();

private:
    [[nodiscard]] token lex_number(position at);
    [[nodiscard]] token lex_string(position at);
    [[nodiscard]] token lex_word(position at);
    [[nodiscard]] token fail(position at, std::string message);
    void advance(std::size_t n) noexcept;

    std::string_view source_;
    std::size_t offset_ = 0;
    position here_;
    bool done_ = false;
    token last_;  // the end or error token, repeated once reached
};

// True when `name` spells one of the Store item fields, and then sets `out`.
[[nodiscard]] bool field_from_name(std::string_view name, item_field& out) noexcept;

// The name of a field as written in expressions ("deviceId" for item_field::device_id).
[[nodiscard]] std::string_view field_name(item_field f) noexcept;

}  // namespace tether::cloud::metrics
