#include "metrics/where.hpp"

#include <array>
#include <cmath>
#include <optional>
#include <utility>

#include "metrics/where_lexer.hpp"

namespace tether::cloud::metrics {

namespace {

std::string describe(const token& t) {
    switch (t.kind) {
    case token_kind::end: return "the end of the expression";
    case token_kind::error: return "an error";
    case token_kind::number: return "a number";
    case token_kind::string: return "a string";
    case token_kind::true_: return "'true'";
    case token_kind::false_: return "'false'";
    case token_kind::null_: return "'null'";
    case token_kind::field: return "the field '" + std::string(field_name(t.field)) + "'";
    case token_kind::lparen: return "'('";
    case token_kind::rparen: return "')'";
    case token_kind::not_: return "'!'";
    case token_kind::and_: return "'&&'";
    case token_kind::or_: return "'||'";
    case token_kind::eq: return "'=='";
    case token_kind::ne: return "'!='";
    case token_kind::lt: return "'<'";
    case token_kind::le: return "'<='";
    case token_kind::gt: return "'>'";
    case token_kind::ge: return "'>='";
    }
    return "?";
}

std::optional<where_expression::op> comparison_op(token_kind k) noexcept {
    using op = where_expression::op;
    switch (k) {
    case token_kind::eq: return op::eq;
    case token_kind::ne: return op::ne;
    case token_kind::lt: return op::lt;
    case token_kind::le: return op::le;
    case token_kind::gt: return op::gt;
    case token_kind::ge: return op::ge;
    default: return std::nullopt;
    }
}

bool ordered(const scalar& a, const scalar& b, where_expression::op o) noexcept {
    using op = where_expression::op;
    int c = 0;
    if (a.type == scalar::kind::number && b.type == scalar::kind::number) {
        // NaN cannot come from a literal or a JSON value; were it to, every order is false.
        if (a.number < b.number) c = -1;
        else if (a.number > b.number) c = 1;
        else if (a.number == b.number) c = 0;
        else return false;
    } else if (a.type == scalar::kind::string && b.type == scalar::kind::string) {
        // char_traits<char>::compare compares as unsigned char, as memcmp does.
        const int r = a.string.compare(b.string);
        c = r < 0 ? -1 : (r > 0 ? 1 : 0);
    } else {
        return false;
    }
    switch (o) {
    case op::lt: return c < 0;
    case op::le: return c <= 0;
    case op::gt: return c > 0;
    case op::ge: return c >= 0;
    default: return false;
    }
}

}  // namespace

bool truthy(const scalar& s) noexcept {
    switch (s.type) {
    case scalar::kind::null: return false;
    case scalar::kind::boolean: return s.boolean;
    case scalar::kind::number: return s.number != 0 && !std::isnan(s.number);
    case scalar::kind::string: return !s.string.empty();
    }
    return false;
}

bool scalar_equal(const scalar& a, const scalar& b) noexcept {
    if (a.type != b.type) return false;
    switch (a.type) {
    case scalar::kind::null: return true;
    case scalar::kind::boolean: return a.boolean == b.boolean;
    case scalar::kind::number: return a.number == b.number;
    case scalar::kind::string: return a.string == b.string;
    }
    return false;
}

// Recursive descent over the grammar in where.hpp, emitting postfix code as it goes.
// Recursion is bounded: every '(' and '!' counts against max_where_depth.
class where_parser {
public:
    where_parser(std::string_view source, std::string_view label) : lexer_(source), label_(label) {
        out_.source_ = std::string(source);
    }

    result<where_expression> run() {
        if (out_.source_.size() > max_where_length) {
            return error{label_ + ": longer than " + std::to_string(max_where_length) + " bytes"};
        }
        advance();
        if (current_.kind == token_kind::end) return fail(current_.at, "empty expression");
        parse_or();
        if (!failed_ && current_.kind != token_kind::end) {
            if (current_.kind == token_kind::rparen) fail(current_.at, "unexpected ')' without a matching '('");
            else fail(current_.at, "unexpected " + describe(current_) + " after the expression");
        }
        if (failed_) return std::move(error_);
        return std::move(out_);
    }

private:
    void advance() {
        current_ = lexer_.next();
        if (current_.kind == token_kind::error) fail(current_.at, current_.text);
    }

    error fail(position at, const std::string& message) {
        if (!failed_) {
            failed_ = true;
            error_ = error{label_ + ": " + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " + message};
        }
        return error_;
    }

    void emit(where_expression::op o, std::uint32_t arg, int stack_change) {
        out_.code_.push_back({o, arg});
        depth_now_ += stack_change;
        if (depth_now_ > max_stack_) max_stack_ = depth_now_;
    }

    bool enter(position at) {
        if (++nesting_ > max_where_depth) {
            fail(at, "nested deeper than " + std::to_string(max_where_depth));
            return false;
        }
        return true;
    }

    void parse_or() {
        parse_and();
        while (!failed_ && current_.kind == token_kind::or_) {
            advance();
            parse_and();
            emit(where_expression::op::or_, 0, -1);
        }
    }

    void parse_and() {
        parse_comparison();
        while (!failed_ && current_.kind == token_kind::and_) {
            advance();
            parse_comparison();
            emit(where_expression::op::and_, 0, -1);
        }
    }

    void parse_comparison() {
        parse_unary();
        if (failed_) return;
        const auto o = comparison_op(current_.kind);
        if (!o) return;
        advance();
        parse_unary();
        if (failed_) return;
        emit(*o, 0, -1);
        if (comparison_op(current_.kind)) {
            fail(current_.at, "comparisons do not chain; use && between them or parentheses");
        }
    }

    void parse_unary() {
        if (failed_) return;
        if (current_.kind != token_kind::not_) {
            parse_primary();
            return;
        }
        if (!enter(current_.at)) return;
        advance();
        parse_unary();
        --nesting_;
        if (!failed_) emit(where_expression::op::not_, 0, 0);
    }

    void push_literal(where_expression::literal l) {
        const auto index = static_cast<std::uint32_t>(out_.literals_.size());
        out_.literals_.push_back(l);
        emit(where_expression::op::literal, index, +1);
    }

    void parse_primary() {
        if (failed_) return;
        using kind = scalar::kind;
        switch (current_.kind) {
        case token_kind::number: push_literal({kind::number, false, current_.number, 0, 0}); break;
        case token_kind::true_: push_literal({kind::boolean, true, 0, 0, 0}); break;
        case token_kind::false_: push_literal({kind::boolean, false, 0, 0, 0}); break;
        case token_kind::null_: push_literal({kind::null, false, 0, 0, 0}); break;
        case token_kind::string: {
            // Sizes fit: the source is at most max_where_length bytes and no escape grows.
            const auto offset = static_cast<std::uint32_t>(out_.strings_.size());
            out_.strings_ += current_.text;
            push_literal({kind::string, false, 0, offset, static_cast<std::uint32_t>(current_.text.size())});
            break;
        }
        case token_kind::field: emit(where_expression::op::field, static_cast<std::uint32_t>(current_.field), +1); break;
        case token_kind::lparen: {
            const position open = current_.at;
            if (!enter(open)) return;
            advance();
            parse_or();
            --nesting_;
            if (failed_) return;
            if (current_.kind != token_kind::rparen) {
                fail(current_.at, "expected ')' to close the '(' at " + std::to_string(open.line) + ":" +
                                      std::to_string(open.column) + ", found " + describe(current_));
                return;
            }
            break;
        }
        default:
            fail(current_.at, "expected a value (a literal, a field or '('), found " + describe(current_));
            return;
        }
        advance();
    }

public:
    int max_stack() const noexcept { return max_stack_; }

private:
    where_lexer lexer_;
    std::string label_;
    token current_;
    where_expression out_;
    bool failed_ = false;
    error error_;
    std::size_t nesting_ = 0;
    int depth_now_ = 0;
    int max_stack_ = 0;
};

result<where_expression> where_expression::compile(std::string_view source, std::string_view label) {
    where_parser p(source, label);
    auto r = p.run();
    // The nesting limit bounds the stack (at most three values wait per level); this
    // check keeps evaluate() safe should the grammar ever grow.
    if (r && p.max_stack() > static_cast<int>(stack_capacity)) {
        return error{std::string(label) + ": expression too complex"};
    }
    return r;
}

scalar where_expression::evaluate(const store_item& item) const noexcept {
    std::array<scalar, stack_capacity> stack;
    std::size_t top = 0;  // compile() proved that top never passes stack_capacity
    for (const instruction& in : code_) {
        switch (in.code) {
        case op::field: stack[top++] = item.field(static_cast<item_field>(in.arg)); break;
        case op::literal: {
            const literal& l = literals_[in.arg];
            scalar s;
            s.type = l.type;
            s.boolean = l.boolean;
            s.number = l.number;
            if (l.type == scalar::kind::string) s.string = std::string_view(strings_).substr(l.offset, l.length);
            stack[top++] = s;
            break;
        }
        case op::not_: stack[top - 1] = scalar::make_bool(!truthy(stack[top - 1])); break;
        default: {
            const scalar b = stack[--top];
            const scalar a = stack[top - 1];
            bool r = false;
            switch (in.code) {
            case op::eq: r = scalar_equal(a, b); break;
            case op::ne: r = !scalar_equal(a, b); break;
            case op::and_: r = truthy(a) && truthy(b); break;
            case op::or_: r = truthy(a) || truthy(b); break;
            default: r = ordered(a, b, in.code); break;
            }
            stack[top - 1] = scalar::make_bool(r);
            break;
        }
        }
    }
    return top == 1 ? stack[0] : scalar{};
}

bool where_expression::matches(const store_item& item) const noexcept { return truthy(evaluate(item)); }

}  // namespace tether::cloud::metrics
