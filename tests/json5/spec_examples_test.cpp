// Every example of the JSON5 specification (https://spec.json5.org, 1.0.0), parsed and
// compared with the value it describes.

#include <gtest/gtest.h>

#include <cmath>

#include "tether/json5/json5.hpp"

namespace tether::json5 {
namespace {

using nlohmann::json;

TEST(SpecExamples, ShortExample) {  // section 1.2
    const auto v = parse(R"({
  // comments
  unquoted: 'and you can quote me on that',
  singleQuotes: 'I can use "double quotes" here',
  lineBreaks: "Look, Mom! \
No \\n's!",
  hexadecimal: 0xdecaf,
  leadingDecimalPoint: .8675309, andTrailing: 8675309.,
  positiveSign: +1,
  trailingComma: 'in objects', andIn: ['arrays',],
  "backwardsCompatible": "with JSON",
})");
    EXPECT_EQ(v, json::parse(R"({
        "unquoted": "and you can quote me on that",
        "singleQuotes": "I can use \"double quotes\" here",
        "lineBreaks": "Look, Mom! No \\n's!",
        "hexadecimal": 912559,
        "leadingDecimalPoint": 0.8675309, "andTrailing": 8675309.0,
        "positiveSign": 1,
        "trailingComma": "in objects", "andIn": ["arrays"],
        "backwardsCompatible": "with JSON"})"));
    EXPECT_TRUE(v["andTrailing"].is_number_float());
    EXPECT_TRUE(v["hexadecimal"].is_number_integer());
}

TEST(SpecExamples, Objects) {  // section 3
    EXPECT_EQ(parse("// An empty object\n{}"), json::object());
    EXPECT_EQ(parse("// An object with two properties and a trailing comma\n"
                    "{\n    width: 1920,\n    height: 1080,\n}"),
              json::parse(R"({"width": 1920, "height": 1080})"));
    EXPECT_EQ(parse("// Objects can be nested\n{\n    image: {\n        width: 1920,\n        height: 1080,\n"
                    "        'aspect-ratio': '16:9',\n    }\n}"),
              json::parse(R"({"image": {"width": 1920, "height": 1080, "aspect-ratio": "16:9"}})"));
    EXPECT_EQ(parse("// An array of objects\n[\n    { name: 'Joe', age: 27 },\n    { name: 'Jane', age: 32 },\n]"),
              json::parse(R"([{"name": "Joe", "age": 27}, {"name": "Jane", "age": 32}])"));
}

TEST(SpecExamples, Arrays) {  // section 4
    EXPECT_EQ(parse("// An empty array\n[]"), json::array());
    EXPECT_EQ(parse("// An array with three elements and a trailing comma\n[\n    1,\n    true,\n    'three',\n]"),
              json::parse(R"([1, true, "three"])"));
    EXPECT_EQ(parse("// Arrays can be nested\n[\n    [1, true, 'three'],\n    [4, \"five\", 0x6],\n]"),
              json::parse(R"([[1, true, "three"], [4, "five", 6]])"));
}

TEST(SpecExamples, Strings) {  // section 5
    EXPECT_EQ(parse(R"('\x5C')"), "\\");
    EXPECT_EQ(parse(R"('\u005C')"), "\\");
    EXPECT_EQ(parse(R"('\uD83C\uDFBC')"), "\xF0\x9F\x8E\xBC");  // U+1F3BC, a surrogate pair
    EXPECT_EQ(parse(R"('\\')"), "\\");
    EXPECT_EQ(parse("'Lorem ipsum dolor sit amet, \\\nconsectetur adipiscing elit.'"),
              parse("'Lorem ipsum dolor sit amet, consectetur adipiscing elit.'"));
    EXPECT_EQ(parse(R"('\A\C\/\D\C')"), parse("'AC/DC'"));
}

TEST(SpecExamples, Numbers) {  // section 6
    const auto v = parse("{\n    integer: 123,\n    withFractionPart: 123.456,\n    onlyFractionPart: .456,\n"
                         "    withExponent: 123e-456,\n}");
    EXPECT_EQ(v["integer"], 123);
    EXPECT_EQ(v["withFractionPart"], 123.456);
    EXPECT_EQ(v["onlyFractionPart"], 0.456);
    EXPECT_EQ(v["withExponent"], 0.0);  // below the smallest double: 0, as in JavaScript
    EXPECT_TRUE(v["withExponent"].is_number_float());
    EXPECT_EQ(parse("{\n    positiveHex: 0xdecaf,\n    negativeHex: -0xC0FFEE,\n}"),
              json::parse(R"({"positiveHex": 912559, "negativeHex": -12648430})"));
    EXPECT_EQ(parse("Infinity"), std::numeric_limits<double>::infinity());
    EXPECT_EQ(parse("-Infinity"), -std::numeric_limits<double>::infinity());
    EXPECT_TRUE(std::isnan(parse("NaN").get<double>()));
}

TEST(SpecExamples, Comments) {  // section 7
    EXPECT_EQ(parse("// This is a single line comment.\n\n/* This is a multi-\n   line comment. */\nnull"), nullptr);
}

TEST(SpecExamples, WhiteSpace) {  // section 8: every code point of the table, and Zs
    for (const char* space : {"\t", "\n", "\v", "\f", "\r", " ", "\xC2\xA0", "\xE2\x80\xA8", "\xE2\x80\xA9",
                              "\xEF\xBB\xBF", "\xE1\x9A\x80" /* U+1680 */, "\xE2\x80\x80" /* U+2000 */,
                              "\xE2\x80\x8A" /* U+200A */, "\xE2\x80\xAF" /* U+202F */, "\xE2\x81\x9F" /* U+205F */,
                              "\xE3\x80\x80" /* U+3000 */}) {
        const std::string s(space);
        EXPECT_EQ(parse(s + "[" + s + "1" + s + "," + s + "2" + s + "]" + s), json::parse("[1,2]"))
            << testing::PrintToString(s);
    }
}

}  // namespace
}  // namespace tether::json5
