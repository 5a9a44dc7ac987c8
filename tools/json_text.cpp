#include "json_text.hpp"

#include <array>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tether::tools {

namespace {

constexpr int nesting_limit = 1000;  // cJSON's CJSON_NESTING_LIMIT

// A recursive-descent reader that prints as it reads. Every index is checked against the
// end of the text before use; the text need not be NUL-terminated.
class reprinter {
public:
    reprinter(std::string_view text, bool pretty, std::string& out) : s_(text), pretty_(pretty), out_(out) {}

    bool document(int depth) {
        if (s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // cJSON skips a UTF-8 byte order mark
        skip_space();
        if (!value(depth, 0)) return false;
        skip_space();
        return pos_ == s_.size();
    }

private:
    [[nodiscard]] bool at_end() const { return pos_ >= s_.size(); }
    [[nodiscard]] char peek() const { return at_end() ? '\0' : s_[pos_]; }

    void skip_space() {
        // cJSON takes every byte up to 0x20 as white space, control bytes included.
        while (!at_end() && static_cast<unsigned char>(s_[pos_]) <= 32) ++pos_;
    }

    void tabs(int n) {
        if (pretty_) out_.append(static_cast<std::size_t>(n), '\t');
    }

    bool literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        out_ += word;
        return true;
    }

    bool value(int depth, int nesting) {
        if (literal("null") || literal("false") || literal("true")) return true;
        const char c = peek();
        if (c == '"') {
            std::string text;
            if (!string(text)) return false;
            append_json_string(text, out_);
            return true;
        }
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        if (c == '[') return array(depth, nesting);
        if (c == '{') return object(depth, nesting);
        return false;
    }

    bool number() {
        // cJSON copies up to 63 characters that can belong to a number and lets strtod
        // decide where it ends, so "01" and "1." are numbers to it.
        std::array<char, 64> buffer{};
        std::size_t n = 0;
        while (n + 1 < buffer.size() && pos_ + n < s_.size() && std::strchr("0123456789+-eE.", s_[pos_ + n]) != nullptr &&
               s_[pos_ + n] != '\0') {
            buffer[n] = s_[pos_ + n];
            ++n;
        }
        char* end = nullptr;
        const double d = std::strtod(buffer.data(), &end);
        if (end == buffer.data()) return false;
        pos_ += static_cast<std::size_t>(end - buffer.data());
        append_json_number(d, out_);
        return true;
    }

    static int hex4(std::string_view h) {
        int v = 0;
        for (const char c : h) {
            v <<= 4;
            if (c >= '0' && c <= '9') v |= c - '0';
            else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
            else return -1;
        }
        return v;
    }

    static void utf8(unsigned long cp, std::string& to) {
        if (cp < 0x80) {
            to.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            to.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            to.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            to.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            to.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            to.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            to.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            to.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            to.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            to.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }

    // A string literal, decoded. Bytes below 0x20 inside it are accepted, as cJSON does.
    bool string(std::string& text) {
        if (peek() != '"') return false;
        ++pos_;
        for (;;) {
            if (at_end() || s_[pos_] == '\0') return false;
            const char c = s_[pos_++];
            if (c == '"') break;
            if (c != '\\') {
                text.push_back(c);
                continue;
            }
            if (at_end()) return false;
            const char e = s_[pos_++];
            switch (e) {
            case 'b': text.push_back('\b'); break;
            case 'f': text.push_back('\f'); break;
            case 'n': text.push_back('\n'); break;
            case 'r': text.push_back('\r'); break;
            case 't': text.push_back('\t'); break;
            case '"':
            case '\\':
            case '/': text.push_back(e); break;
            case 'u': {
                if (s_.size() - pos_ < 4) return false;
                const int first = hex4(s_.substr(pos_, 4));
                pos_ += 4;
                if (first < 0 || (first >= 0xDC00 && first <= 0xDFFF)) return false;
                unsigned long cp = static_cast<unsigned long>(first);
                if (first >= 0xD800 && first <= 0xDBFF) {  // a surrogate pair
                    if (s_.size() - pos_ < 6 || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') return false;
                    const int second = hex4(s_.substr(pos_ + 2, 4));
                    if (second < 0xDC00 || second > 0xDFFF) return false;
                    pos_ += 6;
                    cp = 0x10000 + ((cp & 0x3FF) << 10) + (static_cast<unsigned long>(second) & 0x3FF);
                }
                utf8(cp, text);
                break;
            }
            default: return false;
            }
        }
        // cJSON keeps strings as C strings: a decoded \u0000 ends the string.
        if (const auto nul = text.find('\0'); nul != std::string::npos) text.resize(nul);
        return true;
    }

    bool array(int depth, int nesting) {
        if (nesting >= nesting_limit) return false;
        ++pos_;  // '['
        out_ += '[';
        skip_space();
        if (peek() == ']') {
            ++pos_;
            out_ += ']';
            return true;
        }
        for (;;) {
            skip_space();
            if (!value(depth + 1, nesting + 1)) return false;
            skip_space();
            if (peek() != ',') break;
            ++pos_;
            out_ += pretty_ ? ", " : ",";
        }
        if (peek() != ']') return false;
        ++pos_;
        out_ += ']';
        return true;
    }

    bool object(int depth, int nesting) {
        if (nesting >= nesting_limit) return false;
        ++pos_;  // '{'
        out_ += '{';
        if (pretty_) out_ += '\n';
        skip_space();
        if (peek() == '}') {
            ++pos_;
            tabs(depth);
            out_ += '}';
            return true;
        }
        for (;;) {
            skip_space();
            std::string key;
            if (!string(key)) return false;
            tabs(depth + 1);
            append_json_string(key, out_);
            skip_space();
            if (peek() != ':') return false;
            ++pos_;
            out_ += pretty_ ? ":\t" : ":";
            skip_space();
            if (!value(depth + 1, nesting + 1)) return false;
            skip_space();
            if (peek() != ',') break;
            ++pos_;
            out_ += ',';
            if (pretty_) out_ += '\n';
        }
        if (peek() != '}') return false;
        ++pos_;
        if (pretty_) out_ += '\n';
        tabs(depth);
        out_ += '}';
        return true;
    }

    std::string_view s_;
    bool pretty_;
    std::string& out_;
    std::size_t pos_ = 0;
};

}  // namespace

void append_json_string(std::string_view text, std::string& out) {
    out += '"';
    for (const char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                std::array<char, 8> esc{};
                std::snprintf(esc.data(), esc.size(), "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
                out += esc.data();
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

void append_json_number(double value, std::string& out) {
    if (std::isnan(value) || std::isinf(value)) {
        out += "null";
        return;
    }
    std::array<char, 32> text{};
    std::snprintf(text.data(), text.size(), "%1.15g", value);
    const double back = std::strtod(text.data(), nullptr);
    const double scale = std::fmax(std::fabs(back), std::fabs(value));
    if (!(std::fabs(back - value) <= scale * DBL_EPSILON)) std::snprintf(text.data(), text.size(), "%1.17g", value);
    out += text.data();
}

bool reprint_json(std::string_view text, bool pretty, int depth, std::string& out) {
    const std::size_t mark = out.size();
    reprinter r(text, pretty, out);
    if (r.document(depth)) return true;
    out.resize(mark);
    return false;
}

}  // namespace tether::tools
