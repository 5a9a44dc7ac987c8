#pragma once
// What `tether sub` prints for a message: byte for byte what mosquitto_sub 2.0 prints for
// the same message and flags (-v, -N, -F, --pretty), quirks included, so that scripts that
// read mosquitto_sub's output read ours unchanged:
//   - without -F, an empty payload prints nothing (not even the newline), and with -v it
//     prints "topic (null)" (nothing at all with -N);
//   - %Np pads the payload to N bytes and also cuts it to N; %Nx / %NX print
//     min(length, N) / 2 bytes in hex; a precision on %p, %x and %X is ignored;
//   - %q and %r ignore width; %j cuts its quoted payload at the first NUL byte;
//   - MQTT v5 properties (%A %C %D %E %F %P %R %S) are never present in MQTT 3.1.1, so they
//     print as mosquitto_sub prints an absent property (blank padding, or nothing).
//   - %m prints the PUBLISH's packet id (0 at QoS 0), and %j / %J carry it as "mid" after
//     "payloadlen" at QoS 1 and 2 only, as libmosquitto's message id.

#include <string>
#include <string_view>

#include "tether/client/message.hpp"

namespace tether::tools {

struct print_style {
    std::string format;    // -F; empty: -v or the payload alone
    bool has_format = false;
    bool verbose = false;  // -v
    bool eol = true;       // false with -N
    bool pretty = false;   // --pretty
};

// Checks a -F format as mosquitto_sub does before connecting. Returns "" when it is good,
// else mosquitto_sub's one-line error, e.g. "Error: Invalid format specifier 'z'." or
// "Error: Incomplete escape specifier.".
[[nodiscard]] std::string check_format(std::string_view format);

// Appends to `out` what is printed for `m`. A %J whose payload is not JSON prints nothing
// for that specifier and appends mosquitto_sub's line to `err`
// ("Error: Message payload is not valid JSON on topic t.\n").
void format_message(const print_style& style, const client::message& m, std::string& out, std::string& err);

}  // namespace tether::tools
