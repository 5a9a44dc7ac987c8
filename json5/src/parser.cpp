// The JSON5 syntactic grammar (spec section 9.2) over the lexical one (9.1).
//
// Nesting is kept on a heap-allocated stack of open arrays and objects rather than on the
// call stack, so that depth is bounded by limits::max_depth alone and never by the
// machine's stack size.

#include <string>
#include <vector>

#include "number.hpp"
#include "position.hpp"
#include "tether/json5/json5.hpp"
#include "unicode.hpp"

namespace tether::json5 {
namespace {

using detail::describe;

class parser {
public:
    parser(std::string_view text, std::string_view source, const limits& bounds)
        : text_(text), source_(source), bounds_(bounds) {}

    nlohmann::json run() {
        if (text_.size() > bounds_.max_bytes) {
            fail(0, "the text is " + std::to_string(text_.size()) + " bytes, over the limit of " +
                        std::to_string(bounds_.max_bytes));
        }
        skip_space();
        nlohmann::json value;
        for (;;) {
            if (!begin_value(value)) continue;  // opened a container: its first value comes next
            // `value` is complete: hand it to the containers it closes, innermost first.
            for (;;) {
                if (open_.empty()) {
                    skip_space();
                    if (pos_ < text_.size()) fail(pos_, "expected the end of the input after the value, found " + next());
                    return value;
                }
                container& top = open_.back();
                if (top.is_object) {
                    top.value[top.key] = std::move(value);  // a duplicate key: the last wins
                } else {
                    top.value.push_back(std::move(value));
                }
                skip_space();
                const char close = top.is_object ? '}' : ']';
                if (at(',')) {
                    ++pos_;
                    skip_space();
                    if (!at(close)) {  // not the trailing comma: another member or element
                        if (top.is_object) read_key(top);
                        break;
                    }
                } else if (!at(close)) {
                    fail(pos_, std::string("expected ',' or '") + close + "' " +
                                   (top.is_object ? "after a member" : "after an element") + ", found " + next());
                }
                ++pos_;
                value = std::move(top.value);
                open_.pop_back();
            }
        }
    }

private:
    struct container {
        nlohmann::json value;
        std::string key;  // of the member being read, in an object
        bool is_object;
    };

    [[noreturn]] void fail(std::size_t offset, const std::string& message) const {
        const auto p = detail::locate(text_, offset);
        throw parse_error(std::string(source_), p.line, p.column, message);
    }

    bool at(char c) const noexcept { return pos_ < text_.size() && text_[pos_] == c; }

    // The code point at `offset`; an error there when it is not UTF-8.
    char32_t code_point(std::size_t offset, std::size_t& length) const {
        char32_t cp = 0;
        length = detail::decode_utf8(text_, offset, cp);
        if (length == 0) {
            fail(offset, "invalid UTF-8 (byte 0x" + hex_byte(static_cast<unsigned char>(text_[offset])) + ")");
        }
        return cp;
    }

    static std::string hex_byte(unsigned char b) {
        const char* digits = "0123456789ABCDEF";
        return {digits[b >> 4], digits[b & 15]};
    }

    // What is at pos_, for "found ..." in messages.
    std::string next() const {
        if (pos_ >= text_.size()) return "the end of the input";
        std::size_t length = 0;
        return describe(code_point(pos_, length));
    }

    // White space, line terminators and comments (spec sections 7 and 8).
    void skip_space() {
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c == '/') {
                skip_comment();
                continue;
            }
            std::size_t length = 0;
            if (!detail::is_white_space(code_point(pos_, length))) return;
            pos_ += length;
        }
    }

    void skip_comment() {
        const std::size_t start = pos_;
        if (pos_ + 1 >= text_.size() || (text_[pos_ + 1] != '/' && text_[pos_ + 1] != '*')) {
            fail(pos_, "unexpected '/' (comments start with // or /*)");
        }
        const bool block = text_[pos_ + 1] == '*';
        pos_ += 2;
        while (pos_ < text_.size()) {
            if (block && text_[pos_] == '*' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
                pos_ += 2;
                return;
            }
            std::size_t length = 0;
            const char32_t cp = code_point(pos_, length);  // comments must be UTF-8 too
            if (!block && detail::is_line_terminator(cp)) return;
            pos_ += length;
        }
        if (block) fail(start, "unterminated comment: '/*' without '*/'");
    }

    // JSON5Value at pos_ (white space already skipped). Returns true with `out` set to a
    // complete value, or false after opening an array or object (pushed on open_), with
    // pos_ at its first element or at the value of its first member.
    bool begin_value(nlohmann::json& out) {
        if (pos_ >= text_.size()) fail(pos_, "expected a value, found the end of the input");
        const char c = text_[pos_];
        if (c == '{' || c == '[') {
            if (open_.size() >= bounds_.max_depth) {
                fail(pos_, "nesting deeper than " + std::to_string(bounds_.max_depth) + " arrays and objects");
            }
            const bool is_object = c == '{';
            const char close = is_object ? '}' : ']';
            ++pos_;
            skip_space();
            if (at(close)) {
                ++pos_;
                out = is_object ? nlohmann::json::object() : nlohmann::json::array();
                return true;
            }
            open_.push_back({is_object ? nlohmann::json::object() : nlohmann::json::array(), {}, is_object});
            if (is_object) read_key(open_.back());
            return false;
        }
        if (c == '"' || c == '\'') {
            out = read_string();
            return true;
        }
        if (c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9')) {
            auto n = detail::scan_number(text_, pos_);
            if (!n.error.empty()) fail(n.error_at, n.error);
            pos_ = n.end;
            out = std::move(n.value);
            return true;
        }
        const std::size_t start = pos_;
        bool escaped = false;
        const std::string word = read_identifier(escaped);
        if (word.empty()) fail(start, "expected a value, found " + next());
        // Literals are spelled out: "\u0074rue" is a name, not true (ES5.1 7.6.1).
        if (!escaped) {
            if (word == "null" || word == "true" || word == "false") {
                out = word == "null" ? nlohmann::json(nullptr) : nlohmann::json(word == "true");
                return true;
            }
            if (word == "Infinity" || word == "NaN") {
                auto n = detail::scan_number(text_, start);
                if (!n.error.empty()) fail(n.error_at, n.error);
                out = std::move(n.value);
                return true;
            }
        }
        const std::string shown = word.size() > 40 ? word.substr(0, 40) + "..." : word;
        fail(start, "unexpected name '" + shown + "' (strings need quotes)");
    }

    // JSON5MemberName, then ':' (white space around), leaving pos_ at the member's value.
    void read_key(container& object) {
        const std::size_t start = pos_;
        if (at('"') || at('\'')) {
            object.key = read_string();
        } else {
            bool escaped = false;
            object.key = read_identifier(escaped);
            if (object.key.empty()) fail(start, "expected a key (a name or a string), found " + next());
        }
        skip_space();
        if (!at(':')) fail(pos_, "expected ':' after the key, found " + next());
        ++pos_;
        skip_space();
    }

    // ES5.1 IdentifierName at pos_, or "" when none starts there. Sets `escaped` when it
    // held a \u escape. Each escape must itself be a character the name may hold there.
    std::string read_identifier(bool& escaped) {
        std::string name;
        while (pos_ < text_.size()) {
            const std::size_t start = pos_;
            const bool escape = text_[pos_] == '\\';
            char32_t cp = 0;
            std::size_t length = 0;
            if (escape) {
                if (pos_ + 1 >= text_.size() || text_[pos_ + 1] != 'u') {
                    fail(pos_, "expected 'u' after '\\' in a name (only \\uXXXX escapes are allowed there)");
                }
                pos_ += 2;
                cp = read_unicode_escape(start);
            } else {
                cp = code_point(pos_, length);
            }
            if (!(name.empty() ? detail::is_identifier_start(cp) : detail::is_identifier_part(cp))) {
                if (!escape) break;
                fail(start, "the escape of " + describe(cp) + " is not a character a name may hold here");
            }
            escaped = escaped || escape;
            pos_ += length;
            detail::append_utf8(name, cp);
        }
        return name;
    }

    unsigned hex_digits(std::size_t count, std::size_t escape_start, const char* what) {
        unsigned v = 0;
        for (std::size_t i = 0; i < count; ++i, ++pos_) {
            const char c = pos_ < text_.size() ? text_[pos_] : '\0';
            int d = -1;
            if (c >= '0' && c <= '9') d = c - '0';
            else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
            if (d < 0) fail(escape_start, std::string(what) + " needs " + std::to_string(count) + " hexadecimal digits");
            v = v * 16 + static_cast<unsigned>(d);
        }
        return v;
    }

    // The four hex digits of a \u escape at pos_ (the "\u" at escape_start), joining a
    // surrogate pair written as two escapes into one code point.
    char32_t read_unicode_escape(std::size_t escape_start) {
        const unsigned unit = hex_digits(4, escape_start, "\\u");
        if (unit >= 0xDC00 && unit <= 0xDFFF) {
            fail(escape_start, "\\u escape of a lone low surrogate (UTF-8 cannot hold it)");
        }
        if (unit < 0xD800 || unit > 0xDBFF) return unit;
        const std::size_t second = pos_;
        if (text_.substr(pos_, 2) != "\\u") {
            fail(escape_start, "\\u escape of a high surrogate without a low surrogate after it");
        }
        pos_ += 2;
        const unsigned low = hex_digits(4, second, "\\u");
        if (low < 0xDC00 || low > 0xDFFF) {
            fail(escape_start, "\\u escape of a high surrogate without a low surrogate after it");
        }
        return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    }

    // JSON5String at pos_ (spec section 5).
    std::string read_string() {
        const std::size_t start = pos_;
        const char quote = text_[pos_++];
        std::string out;
        for (;;) {
            if (pos_ >= text_.size()) fail(start, "unterminated string");
            const char c = text_[pos_];
            if (c == quote) {
                ++pos_;
                return out;
            }
            if (c == '\\') {
                read_escape(out);
                continue;
            }
            if (c == '\n' || c == '\r') fail(pos_, "line break in a string (end the line with '\\' to continue it)");
            std::size_t length = 0;
            (void)code_point(pos_, length);  // checks the UTF-8; U+2028 and U+2029 are allowed
            out.append(text_.substr(pos_, length));
            pos_ += length;
        }
    }

    // The escape at pos_ (the '\'), appended to `out` (ES5.1 7.8.4 EscapeSequence and
    // LineContinuation).
    void read_escape(std::string& out) {
        const std::size_t start = pos_++;
        if (pos_ >= text_.size()) fail(start, "unterminated string (it ends in '\\')");
        const char c = text_[pos_];
        switch (c) {
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case '0':
            if (pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' && text_[pos_ + 1] <= '9') {
                fail(start, "'\\0' followed by a digit (octal escapes are not JSON5)");
            }
            out += '\0';
            break;
        case 'x':
            ++pos_;
            detail::append_utf8(out, hex_digits(2, start, "\\x"));
            return;
        case 'u':
            ++pos_;
            detail::append_utf8(out, read_unicode_escape(start));
            return;
        case '\r':  // CR LF is one line break
            if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
            break;
        case '\n':
            break;
        default:
            if (c >= '1' && c <= '9') fail(start, std::string("'\\") + c + "' is not an escape (octal escapes are not JSON5)");
            {
                std::size_t length = 0;
                const char32_t cp = code_point(pos_, length);
                // U+2028 and U+2029 continue the line; any other character stands for itself.
                if (cp != 0x2028 && cp != 0x2029) out.append(text_.substr(pos_, length));
                pos_ += length;
                return;
            }
        }
        ++pos_;
    }

    std::string_view text_;
    std::string_view source_;
    const limits& bounds_;
    std::size_t pos_ = 0;
    std::vector<container> open_;
};

}  // namespace

nlohmann::json parse(std::string_view text, std::string_view source, const limits& bounds) {
    return parser(text, source, bounds).run();
}

}  // namespace tether::json5
