// The JSON5 grammar rule by rule (spec section 9, ES5.1 section 7): what each rule accepts
// and what it refuses, with the position of each refusal.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "tether/json5/json5.hpp"

namespace tether::json5 {
namespace {

using nlohmann::json;

// Parsing `text` fails at line:column with a message that contains `words`.
void expect_error(const std::string& text, std::size_t line, std::size_t column, const std::string& words) {
    try {
        (void)parse(text, "t.json5");
        ADD_FAILURE() << "accepted: " << testing::PrintToString(text);
    } catch (const parse_error& e) {
        EXPECT_EQ(e.line, line) << e.what();
        EXPECT_EQ(e.column, column) << e.what();
        EXPECT_NE(e.message.find(words), std::string::npos) << e.what() << "   (wanted: " << words << ")";
        EXPECT_EQ(std::string(e.what()), "t.json5:" + std::to_string(line) + ":" + std::to_string(column) + ": " + e.message);
    }
}

TEST(Grammar, Literals) {
    EXPECT_EQ(parse("null"), nullptr);
    EXPECT_EQ(parse("true"), true);
    EXPECT_EQ(parse("false"), false);
    expect_error("nul", 1, 1, "unexpected name 'nul'");
    expect_error("truex", 1, 1, "unexpected name 'truex'");
    expect_error("True", 1, 1, "unexpected name 'True'");
    expect_error("\\u0074rue", 1, 1, "unexpected name 'true'");  // escaped: a name, not the literal
    expect_error("undefined", 1, 1, "strings need quotes");
}

TEST(Grammar, TextIsOneValue) {
    expect_error("", 1, 1, "expected a value, found the end of the input");
    expect_error("  // only a comment\n", 2, 1, "expected a value");
    expect_error("1 2", 1, 3, "expected the end of the input after the value, found '2'");
    expect_error("{} x", 1, 4, "found 'x'");
    expect_error("[]]", 1, 3, "found ']'");
    expect_error(",", 1, 1, "expected a value, found ','");
    expect_error("}", 1, 1, "expected a value, found '}'");
}

TEST(Grammar, Objects) {
    EXPECT_EQ(parse("{}"), json::object());
    EXPECT_EQ(parse("{a:1}"), json::parse(R"({"a":1})"));
    EXPECT_EQ(parse("{a:1,}"), json::parse(R"({"a":1})"));
    EXPECT_EQ(parse("{ a : 1 , b : [ ] , }"), json::parse(R"({"a":1,"b":[]})"));
    EXPECT_EQ(parse(R"({"a":1,'b':2,c:3})"), json::parse(R"({"a":1,"b":2,"c":3})"));
    EXPECT_EQ(parse("{a:1, a:2}"), json::parse(R"({"a":2})"));  // the last duplicate wins
    EXPECT_EQ(parse("{'':0}"), json::parse(R"({"":0})"));
    expect_error("{,}", 1, 2, "expected a key (a name or a string), found ','");
    expect_error("{a:1,,}", 1, 6, "expected a key");
    expect_error("{a:1 b:2}", 1, 6, "expected ',' or '}' after a member, found 'b'");
    expect_error("{a 1}", 1, 4, "expected ':' after the key, found '1'");
    expect_error("{a:}", 1, 4, "expected a value, found '}'");
    expect_error("{a:1", 1, 5, "expected ',' or '}' after a member, found the end of the input");
    expect_error("{a:1,", 1, 6, "expected a key (a name or a string), found the end of the input");
    expect_error("{1:2}", 1, 2, "expected a key (a name or a string), found '1'");
    expect_error("{a-b:1}", 1, 3, "expected ':' after the key, found '-'");
    expect_error("{a:1]", 1, 5, "expected ',' or '}'");
}

TEST(Grammar, Arrays) {
    EXPECT_EQ(parse("[]"), json::array());
    EXPECT_EQ(parse("[1]"), json::parse("[1]"));
    EXPECT_EQ(parse("[1,]"), json::parse("[1]"));
    EXPECT_EQ(parse("[[],[[]],{}]"), json::parse("[[],[[]],{}]"));
    expect_error("[,]", 1, 2, "expected a value, found ','");
    expect_error("[1,,]", 1, 4, "expected a value, found ','");
    expect_error("[1 2]", 1, 4, "expected ',' or ']' after an element, found '2'");
    expect_error("[1", 1, 3, "expected ',' or ']'");
    expect_error("[1,", 1, 4, "expected a value, found the end of the input");
    expect_error("[1}", 1, 3, "expected ',' or ']'");
}

TEST(Grammar, IdentifierNames) {
    // Reserved words are IdentifierNames, so they are keys (ES5.1 7.6).
    EXPECT_EQ(parse("{null:1, true:2, if:3, Infinity:4, NaN:5}"),
              json::parse(R"({"null":1,"true":2,"if":3,"Infinity":4,"NaN":5})"));
    EXPECT_EQ(parse("{$:1, _:2, a$_9:3, $0:4}"), json::parse(R"({"$":1,"_":2,"a$_9":3,"$0":4})"));
    // Unicode letters (Ll, Lu, Lo, Nl), and after the first character Mn, Mc, Nd, Pc, ZWNJ, ZWJ.
    EXPECT_EQ(parse("{\xC3\xA9t\xC3\xA9:1}"), json::parse("{\"\xC3\xA9t\xC3\xA9\":1}"));       // été
    EXPECT_EQ(parse("{\xE5\x90\x8D\xE5\x89\x8D:1}"), json::parse("{\"\xE5\x90\x8D\xE5\x89\x8D\":1}"));  // 名前 (Lo)
    EXPECT_EQ(parse("{\xE2\x85\xA0:1}"), json::parse("{\"\xE2\x85\xA0\":1}"));  // U+2160 ROMAN NUMERAL ONE (Nl)
    EXPECT_EQ(parse("{a\xCC\x81:1}"), json::parse("{\"a\xCC\x81\":1}"));        // U+0301 combining acute (Mn)
    EXPECT_EQ(parse("{a\xD9\xA3:1}"), json::parse("{\"a\xD9\xA3\":1}"));        // U+0663 ARABIC-INDIC THREE (Nd)
    EXPECT_EQ(parse("{a\xE2\x80\xBF:1}"), json::parse("{\"a\xE2\x80\xBF\":1}"));  // U+203F UNDERTIE (Pc)
    EXPECT_EQ(parse("{a\xE2\x80\x8C\xE2\x80\x8D:1}"), json::parse("{\"a\xE2\x80\x8C\xE2\x80\x8D\":1}"));  // ZWNJ ZWJ
    EXPECT_EQ(parse("{\xF0\x9D\x90\x80:1}"), json::parse("{\"\xF0\x9D\x90\x80\":1}"));  // U+1D400, a letter past the BMP
    // Escapes stand for the characters they name, and must be ones a name may hold.
    EXPECT_EQ(parse(R"({\u0061b\u0063:1})"), json::parse(R"({"abc":1})"));
    EXPECT_EQ(parse(R"({\u00E9:1})"), json::parse("{\"\xC3\xA9\":1}"));
    EXPECT_EQ(parse(R"({\uD835\uDC00:1})"), json::parse("{\"\xF0\x9D\x90\x80\":1}"));  // a surrogate pair
    EXPECT_EQ(parse(R"({a\u0031:1})"), json::parse(R"({"a1":1})"));  // a digit after the start
    expect_error(R"({\u0031a:1})", 1, 2, "the escape of '1' is not a character a name may hold here");
    expect_error(R"({a\u002D:1})", 1, 3, "the escape of '-' is not");
    expect_error(R"({a\u0020b:1})", 1, 3, "the escape of ' '");
    expect_error(R"({\x61:1})", 1, 2, "expected 'u' after '\\' in a name");
    expect_error(R"({\u006:1})", 1, 2, "\\u needs 4 hexadecimal digits");
    expect_error("{\xCC\x81:1}", 1, 2, "expected a key");        // Mn cannot start a name
    expect_error("{9a:1}", 1, 2, "expected a key");
    expect_error("{a\xE2\x80\x94" "b:1}", 1, 3, "expected ':' after the key, found U+2014");  // an em dash (Pd)
}

TEST(Grammar, StringsAndTheirQuotes) {
    EXPECT_EQ(parse(R"("")"), "");
    EXPECT_EQ(parse("''"), "");
    EXPECT_EQ(parse(R"("it's")"), "it's");
    EXPECT_EQ(parse(R"('say "hi"')"), "say \"hi\"");
    EXPECT_EQ(parse(R"('it\'s')"), "it's");
    EXPECT_EQ(parse(R"("\"")"), "\"");
    EXPECT_EQ(parse("'\xE2\x80\xA8\xE2\x80\xA9'"), "\xE2\x80\xA8\xE2\x80\xA9");  // allowed unescaped, as in JSON
    EXPECT_EQ(parse("'a\tb'"), "a\tb");  // SourceCharacter: control characters other than line breaks
    EXPECT_EQ(parse(std::string("'a\0b'", 5)), std::string("a\0b", 3));
    EXPECT_EQ(parse("'\xF0\x9F\x98\x80'"), "\xF0\x9F\x98\x80");
    expect_error("'abc", 1, 1, "unterminated string");
    expect_error("\"abc'", 1, 1, "unterminated string");
    expect_error("'a\nb'", 1, 3, "line break in a string");
    expect_error("'a\rb'", 1, 3, "line break in a string");
}

TEST(Grammar, Escapes) {
    EXPECT_EQ(parse(R"('\b\f\n\r\t\v\0')"), std::string("\b\f\n\r\t\v\0", 7));
    EXPECT_EQ(parse(R"('\'\"\\\/')"), "'\"\\/");
    EXPECT_EQ(parse(R"('\x41\xe9\xFF')"), "A\xC3\xA9\xC3\xBF");  // \xHH is a code point, not a byte
    EXPECT_EQ(parse(R"('\u0041\u00e9\u20AC\uFFFF')"), "A\xC3\xA9\xE2\x82\xAC\xEF\xBF\xBF");
    EXPECT_EQ(parse(R"('\u0000')"), std::string("\0", 1));
    EXPECT_EQ(parse(R"('\uDBFF\uDFFF')"), "\xF4\x8F\xBF\xBF");  // U+10FFFF
    EXPECT_EQ(parse(R"('\a\c\q\ \é')"), "acq \xC3\xA9");         // NonEscapeCharacter: itself
    EXPECT_EQ(parse("'\\\xF0\x9F\x98\x80'"), "\xF0\x9F\x98\x80");
    // LineContinuation: every LineTerminatorSequence, none of which is kept.
    EXPECT_EQ(parse("'a\\\nb'"), "ab");
    EXPECT_EQ(parse("'a\\\rb'"), "ab");
    EXPECT_EQ(parse("'a\\\r\nb'"), "ab");
    EXPECT_EQ(parse("'a\\\xE2\x80\xA8" "b'"), "ab");
    EXPECT_EQ(parse("'a\\\xE2\x80\xA9" "b'"), "ab");
    EXPECT_EQ(parse("'\\0a'"), std::string("\0a", 2));
    expect_error(R"('\01')", 1, 2, "'\\0' followed by a digit");
    expect_error(R"('\1')", 1, 2, "'\\1' is not an escape");
    expect_error(R"('ab\9')", 1, 4, "'\\9' is not an escape");
    expect_error(R"('\x4')", 1, 2, "\\x needs 2 hexadecimal digits");
    expect_error(R"('\xG0')", 1, 2, "\\x needs 2");
    expect_error(R"('\u12')", 1, 2, "\\u needs 4 hexadecimal digits");
    expect_error(R"('\u12G4')", 1, 2, "\\u needs 4");
    EXPECT_EQ(parse(R"('\U0041')"), "U0041");  // only a lower-case u starts a Unicode escape
    expect_error(R"('\uD800')", 1, 2, "high surrogate without a low surrogate");
    expect_error(R"('\uD800\u0041')", 1, 2, "high surrogate without a low surrogate");
    expect_error(R"('\uD800\uD800')", 1, 2, "high surrogate without a low surrogate");
    expect_error(R"('\uDC00')", 1, 2, "lone low surrogate");
    expect_error("'\\", 1, 2, "unterminated string (it ends in '\\')");
}

TEST(Grammar, DecimalNumbers) {
    EXPECT_EQ(parse("0"), 0);
    EXPECT_EQ(parse("-0"), 0);
    EXPECT_EQ(parse("+0"), 0);
    EXPECT_EQ(parse("123"), 123);
    EXPECT_EQ(parse("+123"), 123);
    EXPECT_EQ(parse("-123"), -123);
    EXPECT_EQ(parse("1."), 1.0);
    EXPECT_TRUE(parse("1.").is_number_float());
    EXPECT_EQ(parse(".5"), 0.5);
    EXPECT_EQ(parse("-.5"), -0.5);
    EXPECT_EQ(parse("+.5e1"), 5.0);
    EXPECT_EQ(parse("0.5"), 0.5);
    EXPECT_EQ(parse("1e3"), 1000.0);
    EXPECT_TRUE(parse("1e3").is_number_float());
    EXPECT_EQ(parse("1E+3"), 1000.0);
    EXPECT_EQ(parse("1e-3"), 0.001);
    EXPECT_EQ(parse("5.e2"), 500.0);
    EXPECT_EQ(parse("0e0"), 0.0);
    EXPECT_EQ(parse("1e400"), std::numeric_limits<double>::infinity());  // as JavaScript's Number
    EXPECT_EQ(parse("-1e400"), -std::numeric_limits<double>::infinity());
    EXPECT_EQ(parse("0.0000001e-400"), 0.0);
    EXPECT_EQ(parse("100000000000000000000e-400"), 0.0);
    EXPECT_EQ(parse("0.001e310"), 1e307);
    expect_error("01", 1, 1, "leading zeros are not allowed");
    expect_error("-00.5", 1, 2, "leading zeros");
    expect_error(".", 1, 1, "expected digits before or after '.'");
    expect_error("+", 1, 1, "expected a number after the sign");
    expect_error("-", 1, 1, "expected a number after the sign");
    expect_error("- 1", 1, 1, "expected a number after the sign");  // the sign is part of the token
    expect_error("+-1", 1, 1, "expected a number after the sign");
    expect_error("1e", 1, 3, "expected digits in the exponent");
    expect_error("1e+", 1, 4, "expected digits in the exponent");
    expect_error(".e1", 1, 1, "expected digits");
    expect_error("1a", 1, 2, "must not be followed directly by 'a'");
    expect_error("1.2.3", 1, 4, "must not be followed directly by '.'");
    expect_error("1_000", 1, 2, "must not be followed directly by '_'");
    expect_error("[1 ,2.5x]", 1, 8, "must not be followed directly by 'x'");
}

TEST(Grammar, IntegersKeepTheirType) {
    EXPECT_EQ(parse("9223372036854775807").get<std::int64_t>(), std::numeric_limits<std::int64_t>::max());
    EXPECT_TRUE(parse("9223372036854775807").is_number_integer());
    EXPECT_EQ(parse("-9223372036854775808").get<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
    EXPECT_TRUE(parse("9223372036854775808").is_number_unsigned());
    EXPECT_EQ(parse("18446744073709551615").get<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
    EXPECT_TRUE(parse("18446744073709551616").is_number_float());
    EXPECT_TRUE(parse("-9223372036854775809").is_number_float());
    EXPECT_EQ(parse("-9223372036854775809"), -9223372036854775809.0);
}

TEST(Grammar, HexadecimalNumbers) {
    EXPECT_EQ(parse("0x0"), 0);
    EXPECT_EQ(parse("0XaBcD"), 0xABCD);
    EXPECT_EQ(parse("+0x10"), 16);
    EXPECT_EQ(parse("-0x10"), -16);
    EXPECT_EQ(parse("0x1e5"), 0x1E5);  // 'e' is a hex digit here, not an exponent
    EXPECT_EQ(parse("0x7FFFFFFFFFFFFFFF").get<std::int64_t>(), std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(parse("0xFFFFFFFFFFFFFFFF").get<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
    EXPECT_TRUE(parse("0xFFFFFFFFFFFFFFFF").is_number_unsigned());
    EXPECT_EQ(parse("-0x8000000000000000").get<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(parse("0x10000000000000000"), 18446744073709551616.0);
    EXPECT_TRUE(parse("0x10000000000000000").is_number_float());
    EXPECT_EQ(parse("-0x8000000000000001"), -9223372036854775809.0);
    EXPECT_EQ(parse("0x001"), 1);  // zeros after 0x are digits
    expect_error("0x", 1, 3, "expected hexadecimal digits after '0x'");
    expect_error("0xg", 1, 3, "expected hexadecimal digits");
    expect_error("0x1g", 1, 4, "must not be followed directly by 'g'");
    expect_error("0x1.5", 1, 4, "must not be followed directly by '.'");
    expect_error("0x1p3", 1, 4, "must not be followed directly by 'p'");
    expect_error("00x1", 1, 1, "leading zeros");
}

TEST(Grammar, InfinityAndNaN) {
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_EQ(parse("Infinity"), inf);
    EXPECT_EQ(parse("+Infinity"), inf);
    EXPECT_EQ(parse("-Infinity"), -inf);
    EXPECT_TRUE(std::isnan(parse("+NaN").get<double>()));
    EXPECT_TRUE(std::isnan(parse("-NaN").get<double>()));
    EXPECT_EQ(parse("[Infinity, -Infinity, NaN]").dump(), "[null,null,null]");  // dump() writes null
    expect_error("infinity", 1, 1, "unexpected name 'infinity'");
    expect_error("Infinityx", 1, 1, "unexpected name 'Infinityx'");
    expect_error("-Infinityx", 1, 10, "must not be followed directly by 'x'");
    expect_error("+Inf", 1, 1, "expected a number after the sign");
    expect_error("nan", 1, 1, "unexpected name 'nan'");
    expect_error("-NaNa", 1, 5, "must not be followed directly by 'a'");
}

TEST(Grammar, Comments) {
    EXPECT_EQ(parse("/**/1/**/"), 1);
    EXPECT_EQ(parse("/* a * / ** b */ 1"), 1);
    EXPECT_EQ(parse("[1, // two\n2]"), json::parse("[1,2]"));
    EXPECT_EQ(parse("[1, // two\r2]"), json::parse("[1,2]"));
    EXPECT_EQ(parse("[1, // two\xE2\x80\xA8 2]"), json::parse("[1,2]"));  // LS ends a line comment
    EXPECT_EQ(parse("1 // no line break at the end"), 1);
    EXPECT_EQ(parse("{/*a*/a/*b*/:/*c*/1/*d*/,/*e*/}"), json::parse(R"({"a":1})"));
    EXPECT_EQ(parse("/* /* not nested */ 1"), 1);
    EXPECT_EQ(parse("'// not a comment'"), "// not a comment");
    expect_error("/* open", 1, 1, "unterminated comment");
    expect_error("1 /* /* */ */", 1, 12, "found '*'");  // comments do not nest
    expect_error("1 / 2", 1, 3, "unexpected '/' (comments start with // or /*)");
    expect_error("1 /", 1, 3, "unexpected '/'");
    expect_error("# no", 1, 1, "expected a value, found '#'");
}

TEST(Grammar, InvalidUtf8IsRefusedEverywhere) {
    expect_error("'a\xFF'", 1, 3, "invalid UTF-8 (byte 0xFF)");
    expect_error("'\xC0\x80'", 1, 2, "invalid UTF-8");           // overlong NUL
    expect_error("'\xED\xA0\x80'", 1, 2, "invalid UTF-8");       // an encoded surrogate
    expect_error("'\xF4\x90\x80\x80'", 1, 2, "invalid UTF-8");   // past U+10FFFF
    expect_error("'\xE2\x82'", 1, 2, "invalid UTF-8");           // truncated
    expect_error("// \x80\n1", 1, 4, "invalid UTF-8");           // in a comment
    expect_error("/* \xFE */ 1", 1, 4, "invalid UTF-8");
    expect_error("1 \xC3", 1, 3, "invalid UTF-8");               // between tokens
    expect_error("{a\xFF:1}", 1, 3, "invalid UTF-8");            // in a name
    expect_error("'\\\xFF'", 1, 3, "invalid UTF-8");             // after a backslash
}

}  // namespace
}  // namespace tether::json5
