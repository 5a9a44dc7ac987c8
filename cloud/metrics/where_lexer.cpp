#include "metrics/where_lexer.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

namespace tether::cloud::metrics {

namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_word_start(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_word_char(char c) noexcept { return is_word_start(c) || is_digit(c); }

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
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

// A printable rendering of one byte for messages: 'x', or \xHH for what is not printable.
std::string show_byte(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) return std::string("'") + c + "'";
    static constexpr char digits[] = "0123456789abcdef";
    return std::string("byte 0x") + digits[u >> 4] + digits[u & 0xF];
}

}  // namespace

bool field_from_name(std::string_view name, item_field& out) noexcept {
    if (name == "key") out = item_field::key;
    else if (name == "value") out = item_field::value;
    else if (name == "type") out = item_field::type;
    else if (name == "deviceId") out = item_field::device_id;
    else if (name == "updated") out = item_field::updated;
    else return false;
    return true;
}

std::string_view field_name(item_field f) noexcept {
    switch (f) {
    case item_field::key: return "key";
    case item_field::value: return "value";
    case item_field::type: return "type";
    case item_field::device_id: return "deviceId";
    case item_field::updated: return "updated";
    }
    return "?";
}

void where_lexer::advance(std::size_t n) noexcept {
    for (std::size_t i = 0; i < n && offset_ < source_.size(); ++i) {
        if (source_[offset_] == '\n') {
            ++here_.line;
            here_.column = 1;
        } else {
            ++here_.column;
        }
        ++offset_;
    }
}

token where_lexer::fail(position at, std::string message) {
    done_ = true;
    last_ = token{token_kind::error, at, 0, {}, std::move(message)};
    return last_;
}

token where_lexer::next() {
    if (done_) return last_;
    while (offset_ < source_.size()) {
        const char c = source_[offset_];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
        advance(1);
    }
    const position at = here_;
    if (offset_ >= source_.size()) {
        done_ = true;
        last_ = token{token_kind::end, at, 0, {}, {}};
        return last_;
    }
    const char c = source_[offset_];
    const char c2 = offset_ + 1 < source_.size() ? source_[offset_ + 1] : '\0';
    auto op = [&](token_kind k, std::size_t n) {
        advance(n);
        return token{k, at, 0, {}, {}};
    };
    switch (c) {
    case '(': return op(token_kind::lparen, 1);
    case ')': return op(token_kind::rparen, 1);
    case '!': return c2 == '=' ? op(token_kind::ne, 2) : op(token_kind::not_, 1);
    case '<': return c2 == '=' ? op(token_kind::le, 2) : op(token_kind::lt, 1);
    case '>': return c2 == '=' ? op(token_kind::ge, 2) : op(token_kind::gt, 1);
    case '=':
        if (c2 == '=') return op(token_kind::eq, 2);
        return fail(at, "'=' is not an operator; did you mean '=='?");
    case '&':
        if (c2 == '&') return op(token_kind::and_, 2);
        return fail(at, "'&' is not an operator; did you mean '&&'?");
    case '|':
        if (c2 == '|') return op(token_kind::or_, 2);
        return fail(at, "'|' is not an operator; did you mean '||'?");
    case '\'':
    case '"': return lex_string(at);
    default: break;
    }
    if (is_digit(c) || (c == '-' && is_digit(c2))) return lex_number(at);
    if (is_word_start(c)) return lex_word(at);
    return fail(at, "unexpected " + show_byte(c));
}

token where_lexer::lex_number(position at) {
    std::size_t end = offset_;
    if (source_[end] == '-') ++end;
    while (end < source_.size() && is_digit(source_[end])) ++end;
    if (end < source_.size() && source_[end] == '.') {
        ++end;
        if (end >= source_.size() || !is_digit(source_[end])) return fail(at, "expected a digit after '.' in a number");
        while (end < source_.size() && is_digit(source_[end])) ++end;
    }
    if (end < source_.size() && (source_[end] == 'e' || source_[end] == 'E')) {
        ++end;
        if (end < source_.size() && (source_[end] == '+' || source_[end] == '-')) ++end;
        if (end >= source_.size() || !is_digit(source_[end])) return fail(at, "expected a digit in the exponent of a number");
        while (end < source_.size() && is_digit(source_[end])) ++end;
    }
    // "12abc" is a mistake, not the number 12 followed by a word.
    if (end < source_.size() && (is_word_char(source_[end]) || source_[end] == '.')) {
        return fail(at, "unexpected " + show_byte(source_[end]) + " after a number");
    }
    double value = 0;
    const char* first = source_.data() + offset_;
    const char* last = source_.data() + end;
    const auto [ptr, ec] = std::from_chars(first, last, value);
    if (ec == std::errc::result_out_of_range || !std::isfinite(value)) return fail(at, "number out of range");
    if (ec != std::errc{} || ptr != last) return fail(at, "malformed number");
    advance(end - offset_);
    return token{token_kind::number, at, value, {}, {}};
}

token where_lexer::lex_string(position at) {
    const char quote = source_[offset_];
    std::string out;
    std::size_t i = offset_ + 1;
    auto read_hex4 = [&](std::size_t from, std::uint32_t& cp) {
        if (from + 4 > source_.size()) return false;
        cp = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const int h = hex_value(source_[from + k]);
            if (h < 0) return false;
            cp = cp * 16 + static_cast<std::uint32_t>(h);
        }
        return true;
    };
    for (;;) {
        if (i >= source_.size()) return fail(at, "unterminated string");
        const char c = source_[i];
        if (c == quote) break;
        if (static_cast<unsigned char>(c) < 0x20) {
            return fail(at, "control character " + show_byte(c) + " in a string; write it as an escape");
        }
        if (c != '\\') {
            out += c;
            ++i;
            continue;
        }
        if (i + 1 >= source_.size()) return fail(at, "unterminated string");
        const char e = source_[i + 1];
        switch (e) {
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
            std::uint32_t cp = 0;
            if (!read_hex4(i + 2, cp)) return fail(at, "expected 4 hex digits after \\u");
            i += 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(at, "lone low surrogate in \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                std::uint32_t low = 0;
                if (i + 1 >= source_.size() || source_[i] != '\\' || source_[i + 1] != 'u' || !read_hex4(i + 2, low) ||
                    low < 0xDC00 || low > 0xDFFF) {
                    return fail(at, "high surrogate in \\u escape without a low surrogate after it");
                }
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            append_utf8(out, cp);
            continue;
        }
        default: return fail(at, "unknown escape \\" + std::string(1, e) + " in a string");
        }
        i += 2;
    }
    advance(i + 1 - offset_);
    return token{token_kind::string, at, 0, {}, std::move(out)};
}

token where_lexer::lex_word(position at) {
    std::size_t end = offset_;
    while (end < source_.size() && is_word_char(source_[end])) ++end;
    const std::string_view word = source_.substr(offset_, end - offset_);
    token t{token_kind::end, at, 0, {}, {}};
    if (word == "true") t.kind = token_kind::true_;
    else if (word == "false") t.kind = token_kind::false_;
    else if (word == "null") t.kind = token_kind::null_;
    else if (field_from_name(word, t.field)) t.kind = token_kind::field;
    else {
        // Long words are cut in the message; the position says where the word is.
        const std::string shown = word.size() > 40 ? std::string(word.substr(0, 40)) + "..." : std::string(word);
        return fail(at, "unknown identifier '" + shown + "' (expected key, value, type, deviceId, updated, true, false or null)");
    }
    advance(end - offset_);
    return t;
}

}  // namespace tether::cloud::metrics
