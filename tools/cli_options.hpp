#pragma once
// Command-line flags of `tether pub` and `tether sub`, spelled as mosquitto_pub and
// mosquitto_sub spell them, so that people can switch without relearning.

#include <optional>
#include <string>
#include <vector>

#include "tether/client/options.hpp"

namespace tether::tools {

enum class mode { pub, sub };

struct cli_options {
    client::options connection;
    bool debug = false;                 // -d
    // pub
    std::vector<std::string> topics;    // -t (pub: exactly one; sub: one or more)
    std::optional<std::string> message; // -m, -n (empty), -s (stdin)
    bool lines = false;                 // -l
    bool stdin_whole = false;           // -s
    bool retain = false;                // -r
    client::qos qos = client::qos::at_most_once;  // -q
    // sub
    bool verbose = false;               // -v: "topic payload"
    long count = 0;                     // -C: exit after this many messages (0: never)
    bool exit_when_acked = false;       // -E
    std::vector<std::string> unsubscribe;  // -U
    long timeout_s = 0;                 // -W (0: none)
    bool no_newline = false;            // -N
};

// Parses argv (after the sub-command). On a bad flag, a missing value or a combination
// that makes no sense, returns nullopt and sets `error` to one line for stderr.
std::optional<cli_options> parse_cli(mode m, const std::vector<std::string>& args, std::string& error);

// The usage text of a sub-command.
std::string usage(mode m);

}  // namespace tether::tools
