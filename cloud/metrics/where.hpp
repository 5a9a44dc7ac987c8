#pragma once
// `where` expressions (PROTOCOL.md §6): which Store writes feed a metric. Parsed and
// checked once when the schema loads, kept as a compact postfix program, evaluated per
// Store write without allocating.
//
// Grammar, loosest first:
//   expression  := and ( '||' and )*
//   and         := comparison ( '&&' comparison )*
//   comparison  := unary ( ( '==' | '!=' | '<' | '<=' | '>' | '>=' ) unary )?
//   unary       := '!' unary | primary
//   primary     := number | string | true | false | null | field | '(' expression ')'
//   field       := key | value | type | deviceId | updated
// So '!' binds tighter than comparisons ("!value == false" is "(!value) == false"), and
// comparisons do not chain ("a < b < c" is an error: say "a < b && b < c").
// Tokens are described in where_lexer.hpp.
//
// Meaning (every operation is total: no expression fails at evaluation):
//   ==  true when both sides have the same JSON type and the same value: numbers by value
//       (1 == 1.0), strings byte for byte, booleans, and null == null. Different types are
//       never equal: 1 == "1" is false, 0 == false is false, null == "" is false.
//   !=  exactly !(a == b).
//   < <= > >=  numbers by value, strings bytewise (unsigned bytes, shorter prefix first);
//       any other pair (mixed types, booleans, null) is false, whichever operator: so
//       !(a < b) and a >= b differ when the types differ.
//   ! && ||  work on truth: false, null, 0 and "" are false, everything else true; they
//       give true or false (not an operand, as JavaScript would).
// A write matches when the whole expression is true in that sense.
//
// Limits, all load errors: source at most 4,096 bytes; '(' and '!' nested at most 32 deep.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/result.hpp"
#include "metrics/store_item.hpp"

namespace tether::cloud::metrics {

inline constexpr std::size_t max_where_length = 4096;
inline constexpr std::size_t max_where_depth = 32;

class where_expression {
public:
    // Compiles `source`. `label` starts every error message, which then gives the
    // line:column of the problem: compile("key ==", "where") fails with
    // "where: 1:7: expected a value (a literal, a field or '('), found the end of the expression".
    // Errors: any lexical error (where_lexer.hpp); "expected a value ..."; "expected ')' ...";
    // "unexpected ... after the expression"; "comparisons do not chain ...";
    // "nested deeper than 32"; "longer than 4096 bytes"; "empty expression".
    //
    //   auto w = where_expression::compile("key == 'cpu' && value > 50");
    //   if (w && w.value().matches(item)) ...
    [[nodiscard]] static result<where_expression> compile(std::string_view source, std::string_view label = "where");

    // True when `item` satisfies the expression. No allocation, no failure.
    [[nodiscard]] bool matches(const store_item& item) const noexcept;

    // The value of the expression for `item` (a comparison gives a boolean; a bare field
    // or literal gives itself). Views in a string result point into the expression or the item.
    [[nodiscard]] scalar evaluate(const store_item& item) const noexcept;

    [[nodiscard]] const std::string& source() const noexcept { return source_; }
    // Instructions in the compiled program (for tests of the compact form).
    [[nodiscard]] std::size_t size() const noexcept { return code_.size(); }

    enum class op : std::uint8_t { field, literal, eq, ne, lt, le, gt, ge, not_, and_, or_ };
    struct instruction {
        op code;
        std::uint32_t arg;  // op::field: the item_field; op::literal: index into literals_
    };
    struct literal {
        scalar::kind type;
        bool boolean;
        double number;
        std::uint32_t offset;  // kind::string: bytes [offset, offset + length) of strings_
        std::uint32_t length;
    };

    // The most values the program ever holds at once; evaluation has room for this many.
    static constexpr std::size_t stack_capacity = 128;

private:
    friend class where_parser;
    std::string source_;
    std::vector<instruction> code_;
    std::vector<literal> literals_;
    std::string strings_;
};

// Truth as `!`, `&&`, `||` and matches() see it.
[[nodiscard]] bool truthy(const scalar& s) noexcept;
// a == b as the expressions define it (above).
[[nodiscard]] bool scalar_equal(const scalar& a, const scalar& b) noexcept;

}  // namespace tether::cloud::metrics
