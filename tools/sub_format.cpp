#include "sub_format.hpp"

#include <array>
#include <cstdio>
#include <ctime>

#include "json_text.hpp"

namespace tether::tools {

namespace {

// One %-specifier's flags, as mosquitto_sub reads them: "-" (left align), "0" (zero pad),
// a width, and "." with a precision.
struct spec {
    bool left = false;
    char pad = ' ';
    int width = 0;
    int precision = -1;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Widths come from the command line; a huge one would only make us print megabytes of
// blanks, so it is capped (mosquitto_sub would overflow an int instead).
constexpr int max_width = 1 << 20;

int add_digit(int value, char c) { return value >= max_width ? value : value * 10 + (c - '0'); }

void pad_to(std::string& out, char pad, int n) {
    if (n > 0) out.append(static_cast<std::size_t>(n), pad);
}

void print_int(std::string& out, long value, const spec& s) {
    std::array<char, 32> digits{};
    std::snprintf(digits.data(), digits.size(), "%ld", value);
    const std::string_view text(digits.data());
    const int fill = s.width - static_cast<int>(text.size());
    if (s.left) {
        out += text;
        pad_to(out, ' ', fill);
    } else if (s.pad == '0' && fill > 0 && text.front() == '-') {
        out += '-';
        pad_to(out, '0', fill);
        out += text.substr(1);
    } else {
        pad_to(out, s.pad == '0' ? '0' : ' ', fill);
        out += text;
    }
}

// printf("%*.*s"): the precision cuts, the width pads with blanks (never zeros).
void print_str(std::string& out, std::string_view text, const spec& s) {
    if (s.precision >= 0 && static_cast<std::size_t>(s.precision) < text.size()) text = text.substr(0, static_cast<std::size_t>(s.precision));
    const int fill = s.width - static_cast<int>(text.size());
    if (!s.left) pad_to(out, ' ', fill);
    out += text;
    if (s.left) pad_to(out, ' ', fill);
}

// mosquitto_sub's payload writer: a width also cuts, and in hex it counts hex digits of
// the cut length halved (so %12x of "hello" prints 2 bytes after 8 blanks).
void print_payload(std::string& out, std::string_view payload, int hex, const spec& s) {
    std::size_t n = payload.size();
    long fill = -static_cast<long>(n);
    if (s.width > 0) {
        if (n > static_cast<std::size_t>(s.width)) n = static_cast<std::size_t>(s.width);
        if (hex != 0) {
            n /= 2;
            fill = s.width - static_cast<long>(n) * 2;
        } else {
            fill = s.width - static_cast<long>(n);
        }
    }
    if (!s.left) pad_to(out, s.pad, static_cast<int>(fill));
    if (hex == 0) {
        out += payload.substr(0, n);
    } else {
        const char* digits = hex == 1 ? "0123456789abcdef" : "0123456789ABCDEF";
        for (std::size_t i = 0; i < n; ++i) {
            const auto b = static_cast<unsigned char>(payload[i]);
            out += digits[b >> 4];
            out += digits[b & 0xF];
        }
    }
    // printf("%*s", fill, "") prints |fill| blanks: with no width, "%-p" pads by the length.
    if (s.left) pad_to(out, ' ', static_cast<int>(fill < 0 ? -fill : fill));
}

struct now_time {
    std::tm local{};
    long ns = 0;
};

now_time current_time() {
    now_time t;
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    t.ns = ts.tv_nsec;
    ::localtime_r(&ts.tv_sec, &t.local);
    return t;
}

std::string strftime_text(const char* format, const std::tm& tm) {
    std::array<char, 100> buffer{};
    const std::size_t n = std::strftime(buffer.data(), buffer.size(), format, &tm);
    return std::string(buffer.data(), n);
}

// "2020-05-06T21:48:00.123456Z+0100", spelled as mosquitto_sub spells it (the Z and the
// offset both, sic).
std::string json_timestamp(const now_time& t) {
    std::string text = strftime_text("%Y-%m-%dT%H:%M:%S", t.local);
    std::array<char, 32> micros{};  // room for any long, though ns / 1000 has at most 6 digits
    std::snprintf(micros.data(), micros.size(), ".%06ldZ", static_cast<long>(t.ns / 1000 % 1'000'000));
    return text + micros.data() + strftime_text("%z", t.local);
}

// %j (escaped payload) and %J (the payload is JSON itself), as mosquitto_sub prints them
// through cJSON. Returns false when %J's payload is not JSON.
bool print_json(std::string& out, const client::message& m, bool escaped, bool pretty) {
    std::string o;
    const char* sep = pretty ? ":\t" : ":";
    const char* next = pretty ? ",\n\t" : ",";
    o += pretty ? "{\n\t" : "{";
    o += "\"tst\"";
    o += sep;
    append_json_string(json_timestamp(current_time()), o);
    o += next;
    o += "\"topic\"";
    o += sep;
    append_json_string(m.topic, o);
    o += next;
    o += std::string("\"qos\"") + sep + std::to_string(static_cast<int>(m.qos)) + next;
    o += std::string("\"retain\"") + sep + (m.retain ? "1" : "0") + next;
    o += std::string("\"payloadlen\"") + sep + std::to_string(m.payload.size()) + next;
    // libmosquitto's mid: the PUBLISH's packet id, left out at QoS 0 (which has none).
    if (m.qos != core::qos::at_most_once) o += std::string("\"mid\"") + sep + std::to_string(m.packet_id) + next;
    o += "\"payload\"";
    o += sep;
    const std::string_view payload = m.text();
    if (payload.empty()) {
        o += "null";  // libmosquitto hands over no payload at all
    } else if (escaped) {
        append_json_string(payload.substr(0, payload.find('\0')), o);  // cJSON sees a C string
    } else if (payload.find('\0') != std::string_view::npos || !reprint_json(payload, pretty, 1, o)) {
        return false;
    }
    o += pretty ? "\n}" : "}";
    out += o;
    return true;
}

// Reads the flags after a '%' at format[i] (i is the index after the '%'), as mosquitto_sub
// does, leaving i on the conversion character.
spec read_spec(std::string_view f, std::size_t& i) {
    spec s;
    const std::size_t last = f.size() - 1;
    if (f[i] == '-') {
        s.left = true;
        if (i < last) ++i;
    }
    if (f[i] == '0') {
        s.pad = '0';
        if (i < last) ++i;
    }
    while (i < last && is_digit(f[i])) s.width = add_digit(s.width, f[i++]);
    if (f[i] == '.' && i < last) {
        ++i;
        s.precision = 0;
        while (i < last && is_digit(f[i])) s.precision = add_digit(s.precision, f[i++]);
    }
    return s;
}

}  // namespace

std::string check_format(std::string_view f) {
    const std::string incomplete = "Error: Incomplete format specifier.";
    const std::size_t len = f.size();
    for (std::size_t i = 0; i < len; ++i) {
        if (f[i] == '%') {
            if (i == len - 1) return incomplete;
            if (f[i + 1] == '0' || f[i + 1] == '-') {  // one flag character
                if (++i == len - 1) return incomplete;
            }
            while (is_digit(f[i + 1])) {
                if (++i == len - 1) return incomplete;
            }
            if (f[i + 1] == '.') {
                if (++i == len - 1) return incomplete;
                while (is_digit(f[i + 1])) {
                    if (++i == len - 1) return incomplete;
                }
            }
            if (std::string_view("%ACDEFIlmPpqRSrtjJUxX").find(f[i + 1]) == std::string_view::npos) {
                return std::string("Error: Invalid format specifier '") + f[i + 1] + "'.";
            }
            ++i;
        } else if (f[i] == '@') {
            if (i == len - 1) return incomplete;
            ++i;
        } else if (f[i] == '\\') {
            if (i == len - 1) return "Error: Incomplete escape specifier.";
            if (std::string_view("\\0aenrtv").find(f[i + 1]) == std::string_view::npos) {
                return std::string("Error: Invalid escape specifier '") + f[i + 1] + "'.";
            }
            ++i;
        }
    }
    return {};
}

void format_message(const print_style& style, const client::message& m, std::string& out, std::string& err) {
    const std::string_view payload = m.text();
    if (!style.has_format) {
        if (style.verbose) {
            if (!payload.empty()) {
                out += m.topic;
                out += ' ';
                out += payload;
                if (style.eol) out += '\n';
            } else if (style.eol) {
                out += m.topic;
                out += " (null)\n";
            }
        } else if (!payload.empty()) {
            out += payload;
            if (style.eol) out += '\n';
        }
        return;
    }

    const std::string_view f = style.format;
    const std::size_t len = f.size();
    for (std::size_t i = 0; i < len; ++i) {
        const char c = f[i];
        if (c == '%') {
            if (i == len - 1) continue;
            ++i;
            const spec s = read_spec(f, i);
            switch (f[i]) {
            case '%': out += '%'; break;
            case 'A':
            case 'E':
            case 'F':
            case 'S': pad_to(out, s.pad, s.width); break;  // absent v5 property
            case 'C': pad_to(out, ' ', s.width); break;
            case 'D':
            case 'P':
            case 'R': break;
            case 'I': print_str(out, strftime_text("%FT%T%z", current_time().local), s); break;
            case 'U': {
                const now_time t = current_time();
                std::array<char, 16> ns{};
                std::snprintf(ns.data(), ns.size(), ".%09ld", t.ns);
                out += strftime_text("%s", t.local) + ns.data();
                break;
            }
            case 'j': (void)print_json(out, m, true, style.pretty); break;
            case 'J':
                if (!print_json(out, m, false, style.pretty)) {
                    err += "Error: Message payload is not valid JSON on topic " + std::string(m.topic) + ".\n";
                }
                break;
            case 'l': print_int(out, static_cast<long>(payload.size()), s); break;
            case 'm': print_int(out, m.packet_id, s); break;
            case 'p': print_payload(out, payload, 0, s); break;
            case 'x': print_payload(out, payload, 1, s); break;
            case 'X': print_payload(out, payload, 2, s); break;
            case 'q': out += static_cast<char>('0' + static_cast<int>(m.qos)); break;
            case 'r': out += m.retain ? '1' : '0'; break;
            case 't': print_str(out, m.topic, s); break;
            default: break;  // check_format() refused it
            }
        } else if (c == '@') {
            if (i == len - 1) continue;
            ++i;
            if (f[i] == '@') {
                out += '@';
            } else {
                const now_time t = current_time();
                if (f[i] == 'N') {
                    std::array<char, 16> ns{};
                    std::snprintf(ns.data(), ns.size(), "%09ld", t.ns);
                    out += ns.data();
                } else {
                    const char strf[3] = {'%', f[i], '\0'};
                    out += strftime_text(strf, t.local);
                }
            }
        } else if (c == '\\') {
            if (i == len - 1) continue;
            switch (f[++i]) {
            case '\\': out += '\\'; break;
            case '0': out += '\0'; break;
            case 'a': out += '\a'; break;
            case 'e': out += '\033'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'v': out += '\v'; break;
            default: break;
            }
        } else {
            out += c;
        }
    }
    if (style.eol) out += '\n';
}

}  // namespace tether::tools
