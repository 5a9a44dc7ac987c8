#pragma once
// Command-line flags of `tether pub` and `tether sub`, spelled and meant as mosquitto_pub
// and mosquitto_sub 2.0 spell and mean them, so that scripts switch without changes.
// tether speaks MQTT 3.1.1 only: the MQTT v5 flags (-V mqttv5, -x, -D,
// --retain-as-published) and MQTT 3.1 (-V mqttv31) are refused with a line saying so.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "sub_format.hpp"
#include "tether/client/options.hpp"

namespace tether::tools {

enum class mode { pub, sub };

struct cli_options {
    client::options connection;  // host/port is the first endpoint, more_endpoints the others
    bool debug = false;          // -d
    bool quiet = false;          // --quiet: no runtime error messages
    std::vector<std::string> topics;  // -t, -L (pub: exactly one; sub: any number)
    client::qos qos = client::qos::at_most_once;  // -q

    // pub: exactly one source
    std::optional<std::string> message;  // -m, -n (empty)
    std::string file;                    // -f
    bool lines = false;                  // -l
    bool stdin_whole = false;            // -s
    bool retain = false;                 // -r
    long repeat = 1;                     // --repeat
    std::chrono::microseconds repeat_delay{0};  // --repeat-delay

    // sub
    print_style print;                      // -v -N -F --pretty
    long count = 0;                         // -C: exit after this many printed messages (0: never)
    bool exit_when_acked = false;           // -E
    std::vector<std::string> unsubscribe;   // -U
    std::vector<std::string> filter_out;    // -T: not printed, not counted
    bool skip_retained = false;             // -R: retained messages not printed
    bool retained_only = false;             // --retained-only: exit at the first fresh message
    bool remove_retained = false;           // --remove-retained: clear each retained message seen
    double random_filter_percent = 100.0;   // --random-filter
    long timeout_s = 0;                     // -W (0: none)
};

// Parses argv (after the sub-command). On a bad flag, a missing value or a combination
// that makes no sense, returns nullopt and sets `error` to one line for stderr. `--help`
// and `--version` are not flags here: the caller handles them first.
[[nodiscard]] std::optional<cli_options> parse_cli(mode m, const std::vector<std::string>& args, std::string& error);

// The usage text of a sub-command.
[[nodiscard]] std::string usage(mode m);

}  // namespace tether::tools
