#pragma once
// The options file of mosquitto_pub and mosquitto_sub 2.0, read the same way so that a
// user's defaults (a broker, TLS files, credentials) carry over:
//
//   $XDG_CONFIG_HOME/mosquitto_pub (or _sub), else $HOME/.config/mosquitto_pub (or _sub)
//
// One flag per line, its value after the first space (the rest of the line, spaces
// included); lines starting with '#' and empty lines are skipped. The file's flags come
// before the command line's, so the command line wins where a flag takes one value. One
// difference is on purpose: tether takes several -h as a list of brokers to fail over
// between, so the file's -h/--host are dropped when the command line names a broker
// (-h, --host, -L, --url, --unix), which is what mosquitto's "last -h wins" means.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli_options.hpp"

namespace tether::tools {

struct options_file {
    std::filesystem::path path;      // empty: neither variable is set
    std::vector<std::string> args;   // the file's flags and values, in order
};

// Reads the options file of `m` if there is one; a missing file is no file (empty args).
// Errors (nullopt, `error` set to one line): the file exists but cannot be read, or a
// line is longer than 64 KiB.
[[nodiscard]] std::optional<options_file> read_options_file(mode m, std::string& error);

// The arguments to parse: the file's, less its hosts when `command_line` names a broker,
// then `command_line`.
[[nodiscard]] std::vector<std::string> with_options_file(const options_file& file,
                                                         const std::vector<std::string>& command_line);

}  // namespace tether::tools
