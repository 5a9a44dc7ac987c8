// The tokens of `where` expressions, rule by rule (where_lexer.hpp).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "metrics/where_lexer.hpp"

namespace {

using namespace tether::cloud::metrics;

std::vector<token_kind> kinds(std::string_view source) {
    where_lexer lex(source);
    std::vector<token_kind> out;
    for (;;) {
        token t = lex.next();
        out.push_back(t.kind);
        if (t.kind == token_kind::end || t.kind == token_kind::error) return out;
    }
}

token single(std::string_view source) {
    where_lexer lex(source);
    return lex.next();
}

TEST(WhereLexer, Operators) {
    using k = token_kind;
    EXPECT_EQ(kinds("( ) ! == != < <= > >= && ||"),
              (std::vector<k>{k::lparen, k::rparen, k::not_, k::eq, k::ne, k::lt, k::le, k::gt, k::ge, k::and_, k::or_, k::end}));
    // Longest match: "!=" is one token, "!!" two.
    EXPECT_EQ(kinds("!=!!"), (std::vector<k>{k::ne, k::not_, k::not_, k::end}));
    EXPECT_EQ(kinds("<=<"), (std::vector<k>{k::le, k::lt, k::end}));
}

TEST(WhereLexer, LoneOperatorCharactersAreErrors) {
    for (const char* s : {"=", "&", "|", "a = 1"}) {
        const auto ks = kinds(s);
        EXPECT_EQ(ks.back(), token_kind::error) << s;
    }
    EXPECT_EQ(single("=").text, "'=' is not an operator; did you mean '=='?");
    EXPECT_EQ(single("&x").text, "'&' is not an operator; did you mean '&&'?");
}

TEST(WhereLexer, Numbers) {
    EXPECT_EQ(single("0").number, 0);
    EXPECT_EQ(single("42").number, 42);
    EXPECT_EQ(single("-7").number, -7);
    EXPECT_EQ(single("3.25").number, 3.25);
    EXPECT_EQ(single("1e3").number, 1000);
    EXPECT_EQ(single("2.5E-1").number, 0.25);
    EXPECT_EQ(single("1e+2").number, 100);
    EXPECT_EQ(single("-0.5").kind, token_kind::number);
}

TEST(WhereLexer, MalformedNumbers) {
    EXPECT_EQ(single("1.").text, "expected a digit after '.' in a number");
    EXPECT_EQ(single("1e").text, "expected a digit in the exponent of a number");
    EXPECT_EQ(single("1e+").text, "expected a digit in the exponent of a number");
    EXPECT_EQ(single("12abc").text, "unexpected 'a' after a number");
    EXPECT_EQ(single("1.2.3").text, "unexpected '.' after a number");
    EXPECT_EQ(single("1e999").text, "number out of range");
    EXPECT_EQ(single("-1e999").text, "number out of range");
    // A '-' not followed at once by a digit is not a number; there is no minus operator.
    EXPECT_EQ(single("- 1").kind, token_kind::error);
    EXPECT_EQ(single(".5").kind, token_kind::error);
}

TEST(WhereLexer, Strings) {
    EXPECT_EQ(single("'cpu'").text, "cpu");
    EXPECT_EQ(single("\"cpu\"").text, "cpu");
    EXPECT_EQ(single("''").text, "");
    EXPECT_EQ(single("'say \"hi\"'").text, "say \"hi\"");
    EXPECT_EQ(single("\"it's\"").text, "it's");
    EXPECT_EQ(single(R"('a\'b\"c\\d\/e')").text, "a'b\"c\\d/e");
    EXPECT_EQ(single(R"('\b\f\n\r\t')").text, "\b\f\n\r\t");
    EXPECT_EQ(single(R"('\u0041\u00e9\u20ac')").text, "A\xC3\xA9\xE2\x82\xAC");
    EXPECT_EQ(single(R"('\ud83d\ude00')").text, "\xF0\x9F\x98\x80");  // U+1F600 from a surrogate pair
    EXPECT_EQ(single("'caf\xC3\xA9'").text, "caf\xC3\xA9");          // raw UTF-8 kept as it is
}

TEST(WhereLexer, BadStrings) {
    EXPECT_EQ(single("'abc").text, "unterminated string");
    EXPECT_EQ(single("'abc\\").text, "unterminated string");
    EXPECT_EQ(single("'abc\"").text, "unterminated string");
    EXPECT_EQ(single("'\\x'").text, "unknown escape \\x in a string");
    EXPECT_EQ(single("'\\u12'").text, "expected 4 hex digits after \\u");
    EXPECT_EQ(single("'\\u12g4'").text, "expected 4 hex digits after \\u");
    EXPECT_EQ(single("'\\ude00'").text, "lone low surrogate in \\u escape");
    EXPECT_EQ(single("'\\ud83d'").text, "high surrogate in \\u escape without a low surrogate after it");
    EXPECT_EQ(single("'\\ud83d\\u0041'").text, "high surrogate in \\u escape without a low surrogate after it");
    EXPECT_EQ(single("'a\nb'").text, "control character byte 0x0a in a string; write it as an escape");
}

TEST(WhereLexer, Words) {
    EXPECT_EQ(single("true").kind, token_kind::true_);
    EXPECT_EQ(single("false").kind, token_kind::false_);
    EXPECT_EQ(single("null").kind, token_kind::null_);
    const std::pair<const char*, item_field> fields[] = {{"key", item_field::key},
                                                         {"value", item_field::value},
                                                         {"type", item_field::type},
                                                         {"deviceId", item_field::device_id},
                                                         {"updated", item_field::updated}};
    for (const auto& [name, field] : fields) {
        const token t = single(name);
        EXPECT_EQ(t.kind, token_kind::field) << name;
        EXPECT_EQ(t.field, field) << name;
        EXPECT_EQ(field_name(field), name);
    }
}

TEST(WhereLexer, UnknownWordsAreErrors) {
    // Case matters, and words are whole: "keys" is not "key".
    for (const char* s : {"speed", "Key", "deviceid", "keys", "TRUE", "_x", "value2"}) {
        const token t = single(s);
        EXPECT_EQ(t.kind, token_kind::error) << s;
        EXPECT_NE(t.text.find("unknown identifier '" + std::string(s) + "'"), std::string::npos) << t.text;
    }
}

TEST(WhereLexer, PositionsCountLinesAndColumns) {
    where_lexer lex("key ==\n  'x'");
    const token a = lex.next();
    const token b = lex.next();
    const token c = lex.next();
    const token d = lex.next();
    EXPECT_EQ(a.at.line, 1u);
    EXPECT_EQ(a.at.column, 1u);
    EXPECT_EQ(b.at.column, 5u);
    EXPECT_EQ(c.at.line, 2u);
    EXPECT_EQ(c.at.column, 3u);
    EXPECT_EQ(d.kind, token_kind::end);
    EXPECT_EQ(d.at.column, 6u);
}

TEST(WhereLexer, EndAndErrorsAreSticky) {
    where_lexer lex("key @ 1");
    EXPECT_EQ(lex.next().kind, token_kind::field);
    const token e = lex.next();
    EXPECT_EQ(e.kind, token_kind::error);
    EXPECT_EQ(e.text, "unexpected '@'");
    EXPECT_EQ(lex.next().kind, token_kind::error);
    where_lexer empty("   ");
    EXPECT_EQ(empty.next().kind, token_kind::end);
    EXPECT_EQ(empty.next().kind, token_kind::end);
}

TEST(WhereLexer, UnprintableBytesAreNamedInHex) {
    EXPECT_EQ(single("\x01").text, "unexpected byte 0x01");
    EXPECT_EQ(single("\xff").text, "unexpected byte 0xff");
}

}  // namespace
