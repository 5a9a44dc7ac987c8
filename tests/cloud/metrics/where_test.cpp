// `where` expressions: the grammar rule by rule, error positions, limits, the meaning of
// comparisons across types, and evaluation without allocation (where.hpp).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "metrics/where.hpp"

// Counts every allocation of this test program, so that evaluation can be shown to make none.
namespace {
std::atomic<std::size_t> allocations{0};
void* or_throw(void* p) {
    if (p == nullptr) throw std::bad_alloc();
    return p;
}
}  // namespace
void* operator new(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return or_throw(std::malloc(n == 0 ? 1 : n));
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace tether::cloud::metrics;

store_item cpu(double v) {
    return store_item{"cpu", scalar::make_number(v), "number", "dev1", 1'700'000'000'000};
}

std::string compile_error(std::string_view source) {
    auto r = where_expression::compile(source);
    if (r) return "(compiled)";
    return r.err().message;
}

bool eval(std::string_view source, const store_item& item = cpu(55)) {
    auto r = where_expression::compile(source);
    EXPECT_TRUE(r.ok()) << source << ": " << (r ? "" : r.err().message);
    return r && r.value().matches(item);
}

// --- primary ---------------------------------------------------------------------------

TEST(WhereGrammar, Literals) {
    EXPECT_TRUE(eval("true"));
    EXPECT_FALSE(eval("false"));
    EXPECT_FALSE(eval("null"));
    EXPECT_TRUE(eval("1"));
    EXPECT_FALSE(eval("0"));
    EXPECT_TRUE(eval("'x'"));
    EXPECT_FALSE(eval("''"));
    EXPECT_TRUE(eval("\"x\""));
}

TEST(WhereGrammar, Fields) {
    const store_item item{"cpu", scalar::make_number(55), "number", "dev1", 1000};
    EXPECT_TRUE(eval("key == 'cpu'", item));
    EXPECT_TRUE(eval("value == 55", item));
    EXPECT_TRUE(eval("type == 'number'", item));
    EXPECT_TRUE(eval("deviceId == 'dev1'", item));
    EXPECT_TRUE(eval("updated == 1000", item));
    EXPECT_FALSE(eval("key == 'cpu2'", item));
}

TEST(WhereGrammar, Parentheses) {
    EXPECT_TRUE(eval("(key == 'cpu')"));
    EXPECT_TRUE(eval("((((true))))"));
    EXPECT_FALSE(eval("(false || false) && true"));
    // Parentheses change grouping: without them && binds first.
    EXPECT_TRUE(eval("true || false && false"));
    EXPECT_FALSE(eval("(true || false) && false"));
}

TEST(WhereGrammar, MissingValue) {
    EXPECT_EQ(compile_error("key =="), "where: 1:7: expected a value (a literal, a field or '('), found the end of the expression");
    EXPECT_EQ(compile_error("&& key"), "where: 1:1: expected a value (a literal, a field or '('), found '&&'");
    EXPECT_EQ(compile_error("()"), "where: 1:2: expected a value (a literal, a field or '('), found ')'");
    EXPECT_EQ(compile_error("key == 'a' ||"), "where: 1:14: expected a value (a literal, a field or '('), found the end of the expression");
    EXPECT_EQ(compile_error("!"), "where: 1:2: expected a value (a literal, a field or '('), found the end of the expression");
}

TEST(WhereGrammar, UnbalancedParentheses) {
    EXPECT_EQ(compile_error("(key == 'cpu'"), "where: 1:14: expected ')' to close the '(' at 1:1, found the end of the expression");
    EXPECT_EQ(compile_error("(key == 'a' 'b')"), "where: 1:13: expected ')' to close the '(' at 1:1, found a string");
    EXPECT_EQ(compile_error("key == 'cpu')"), "where: 1:13: unexpected ')' without a matching '('");
}

TEST(WhereGrammar, TrailingTokens) {
    EXPECT_EQ(compile_error("key 'cpu'"), "where: 1:5: unexpected a string after the expression");
    EXPECT_EQ(compile_error("true false"), "where: 1:6: unexpected 'false' after the expression");
}

TEST(WhereGrammar, EmptyIsAnError) {
    EXPECT_EQ(compile_error(""), "where: 1:1: empty expression");
    EXPECT_EQ(compile_error("  \n "), "where: 2:2: empty expression");
}

TEST(WhereGrammar, LexicalErrorsCarryTheirPosition) {
    EXPECT_EQ(compile_error("key == speed"),
              "where: 1:8: unknown identifier 'speed' (expected key, value, type, deviceId, updated, true, false or null)");
    EXPECT_EQ(compile_error("key ==\n   'cpu"), "where: 2:4: unterminated string");
    EXPECT_EQ(compile_error("key = 'cpu'"), "where: 1:5: '=' is not an operator; did you mean '=='?");
}

TEST(WhereGrammar, LabelStartsTheMessage) {
    auto r = where_expression::compile("(", "Store.metrics[3].where");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().message, "Store.metrics[3].where: 1:2: expected a value (a literal, a field or '('), found the end of the expression");
}

// --- unary ------------------------------------------------------------------------------

TEST(WhereGrammar, Not) {
    EXPECT_FALSE(eval("!true"));
    EXPECT_TRUE(eval("!false"));
    EXPECT_TRUE(eval("!!true"));
    EXPECT_TRUE(eval("!null"));
    EXPECT_TRUE(eval("!0"));
    EXPECT_TRUE(eval("!''"));
    EXPECT_FALSE(eval("!'x'"));
    EXPECT_TRUE(eval("!(key == 'mem')"));
}

TEST(WhereGrammar, NotBindsTighterThanComparison) {
    // (!value) == false, with value 55: !55 is false, false == false.
    EXPECT_TRUE(eval("!value == false"));
    // Were it !(value == false), it would be !(false) = true as well; tell them apart:
    // (!key) == 'cpu' is false == 'cpu', false; !(key == 'cpu') is false too. Use a case
    // where the groupings differ: (!0) == 1 is true == 1, false; !(0 == 1) is true.
    EXPECT_FALSE(eval("!0 == 1"));
    EXPECT_TRUE(eval("!(0 == 1)"));
}

// --- comparison -------------------------------------------------------------------------

TEST(WhereGrammar, EveryComparison) {
    EXPECT_TRUE(eval("value == 55"));
    EXPECT_FALSE(eval("value != 55"));
    EXPECT_TRUE(eval("value < 56"));
    EXPECT_FALSE(eval("value < 55"));
    EXPECT_TRUE(eval("value <= 55"));
    EXPECT_FALSE(eval("value <= 54"));
    EXPECT_TRUE(eval("value > 54"));
    EXPECT_FALSE(eval("value > 55"));
    EXPECT_TRUE(eval("value >= 55"));
    EXPECT_FALSE(eval("value >= 56"));
    EXPECT_TRUE(eval("55 == value"));  // either side may be the field
    EXPECT_TRUE(eval("value>=-1e2"));   // no spaces needed
}

TEST(WhereGrammar, ComparisonsDoNotChain) {
    EXPECT_EQ(compile_error("1 < value < 100"), "where: 1:11: comparisons do not chain; use && between them or parentheses");
    EXPECT_EQ(compile_error("a == b == c").substr(0, 11), "where: 1:1:");  // 'a' is not a field: lexical first
    EXPECT_TRUE(eval("(1 < value) == true"));
    EXPECT_TRUE(eval("1 < value && value < 100"));
}

TEST(WhereGrammar, ComparisonBindsTighterThanAnd) {
    EXPECT_TRUE(eval("key == 'cpu' && value == 55"));
    EXPECT_FALSE(eval("key == 'cpu' && value == 56"));
}

// --- and / or ---------------------------------------------------------------------------

TEST(WhereGrammar, AndOrTruthTables) {
    EXPECT_TRUE(eval("true && true"));
    EXPECT_FALSE(eval("true && false"));
    EXPECT_FALSE(eval("false && true"));
    EXPECT_FALSE(eval("false && false"));
    EXPECT_TRUE(eval("true || false"));
    EXPECT_TRUE(eval("false || true"));
    EXPECT_FALSE(eval("false || false"));
    EXPECT_TRUE(eval("false || false || true"));
    EXPECT_FALSE(eval("true && true && false"));
}

TEST(WhereGrammar, AndBindsTighterThanOr) {
    EXPECT_TRUE(eval("true || true && false"));   // true || (true && false)
    EXPECT_TRUE(eval("false && true || true"));   // (false && true) || true
    EXPECT_FALSE(eval("false && (true || true)"));
}

TEST(WhereGrammar, LogicGivesBooleans) {
    auto r = where_expression::compile("'a' && 5");
    ASSERT_TRUE(r.ok());
    const scalar v = r.value().evaluate(cpu(1));
    EXPECT_EQ(v.type, scalar::kind::boolean);
    EXPECT_TRUE(v.boolean);
    auto field = where_expression::compile("key");
    ASSERT_TRUE(field.ok());
    EXPECT_EQ(field.value().evaluate(cpu(1)).string, "cpu");
}

// --- limits -----------------------------------------------------------------------------

TEST(WhereLimits, NestingDepth) {
    const std::string ok = std::string(32, '(') + "true" + std::string(32, ')');
    EXPECT_TRUE(eval(ok));
    const std::string deep = std::string(33, '(') + "true" + std::string(33, ')');
    EXPECT_EQ(compile_error(deep), "where: 1:33: nested deeper than 32");
    EXPECT_TRUE(eval(std::string(32, '!') + "true"));
    EXPECT_EQ(compile_error(std::string(33, '!') + "true"), "where: 1:33: nested deeper than 32");
    // Far past the limit: an error, not a stack overflow.
    EXPECT_NE(compile_error(std::string(4000, '(')).find("nested deeper than 32"), std::string::npos);
}

TEST(WhereLimits, DeepestStackFits) {
    // Three values wait at every level: the left sides of ||, && and ==.
    std::string s = "true";
    for (int i = 0; i < 31; ++i) s = "true || true && 1 == (" + s + ")";
    auto r = where_expression::compile(s);
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_TRUE(r.value().matches(cpu(1)));
}

TEST(WhereLimits, Length) {
    std::string s = "key == '" + std::string(4096 - 9, 'x') + "'";
    ASSERT_EQ(s.size(), 4096u);
    EXPECT_TRUE(where_expression::compile(s).ok());
    s.insert(s.begin(), ' ');
    EXPECT_EQ(compile_error(s), "where: longer than 4096 bytes");
}

TEST(WhereLimits, LongLeftChainsAreFine) {
    std::string s = "false";
    for (int i = 0; i < 150; ++i) s += " || key == 'k" + std::to_string(i) + "'";
    s += " || key == 'cpu'";
    EXPECT_TRUE(eval(s));
}

// --- meaning across types ---------------------------------------------------------------

TEST(WhereSemantics, EqualityNeedsTheSameType) {
    EXPECT_FALSE(eval("1 == '1'"));
    EXPECT_TRUE(eval("1 != '1'"));
    EXPECT_FALSE(eval("0 == false"));
    EXPECT_FALSE(eval("1 == true"));
    EXPECT_FALSE(eval("null == ''"));
    EXPECT_FALSE(eval("null == 0"));
    EXPECT_FALSE(eval("null == false"));
    EXPECT_TRUE(eval("null == null"));
    EXPECT_FALSE(eval("null != null"));
    EXPECT_TRUE(eval("true == true"));
    EXPECT_TRUE(eval("1 == 1.0"));
    EXPECT_TRUE(eval("100 == 1e2"));
    EXPECT_TRUE(eval("0 == -0"));
    EXPECT_TRUE(eval("'a' == \"a\""));
    EXPECT_FALSE(eval("'a' == 'A'"));
}

TEST(WhereSemantics, OrderingOnlyForNumbersAndStrings) {
    for (const char* op : {"<", "<=", ">", ">="}) {
        const std::string o(op);
        EXPECT_FALSE(eval("1 " + o + " '1'")) << o;
        EXPECT_FALSE(eval("'1' " + o + " 1")) << o;
        EXPECT_FALSE(eval("null " + o + " null")) << o;
        EXPECT_FALSE(eval("true " + o + " false")) << o;
        EXPECT_FALSE(eval("false " + o + " false")) << o;
        EXPECT_FALSE(eval("null " + o + " 0")) << o;
    }
    // So !(a < b) is not a >= b across types.
    EXPECT_TRUE(eval("!(1 < 'x')"));
    EXPECT_FALSE(eval("1 >= 'x'"));
}

TEST(WhereSemantics, StringsCompareBytewise) {
    EXPECT_TRUE(eval("'a' < 'b'"));
    EXPECT_TRUE(eval("'B' < 'a'"));            // uppercase bytes are smaller
    EXPECT_TRUE(eval("'ab' < 'abc'"));         // a prefix first
    EXPECT_TRUE(eval("'' < 'a'"));
    EXPECT_TRUE(eval("'z' < '\\u00e9'"));      // 0x7a < 0xc3: bytes are unsigned
    EXPECT_TRUE(eval("'10' < '9'"));           // text, not numbers
    EXPECT_TRUE(eval("'abc' <= 'abc'"));
    EXPECT_TRUE(eval("'abd' > 'abc'"));
}

TEST(WhereSemantics, StoreValuesOfEveryType) {
    const store_item text{"name", scalar::make_string("Acme"), "string", "d", 0};
    const store_item flag{"on", scalar::make_bool(true), "boolean", "d", 0};
    EXPECT_TRUE(eval("value == 'Acme'", text));
    EXPECT_FALSE(eval("value > 5", text));
    EXPECT_TRUE(eval("value == true", flag));
    EXPECT_FALSE(eval("value == 1", flag));
    EXPECT_TRUE(eval("value", flag));
    EXPECT_TRUE(eval("type == 'boolean' && value", flag));
}

TEST(WhereSemantics, StringLiteralsSurviveCopies) {
    where_expression copy = [] {
        auto r = where_expression::compile("key == 'cpu' || key == \"mem\"");
        return std::move(r).value();
    }();
    const where_expression second = copy;
    EXPECT_TRUE(second.matches(cpu(1)));
    EXPECT_EQ(second.source(), "key == 'cpu' || key == \"mem\"");
}

TEST(WhereCompiled, CompactPostfix) {
    // One instruction per operand and per operator: 3 + 3 + 1.
    auto r = where_expression::compile("(key == 'cpu') && ((value > 50))");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().size(), 7u);
}

TEST(WhereCompiled, EvaluationDoesNotAllocate) {
    auto r = where_expression::compile("key == 'cpu' && (value > 50 || !(deviceId < 'dev0')) && type != null && updated >= 0");
    ASSERT_TRUE(r.ok());
    const where_expression& w = r.value();
    const store_item item = cpu(55);
    const std::size_t before = allocations.load();
    bool all = true;
    for (int i = 0; i < 100; ++i) all = w.matches(item) && all;
    EXPECT_EQ(allocations.load(), before);
    EXPECT_TRUE(all);
}

}  // namespace
