// tether config: reading the device's JSON5 configuration files.
//
//   tether config print FILE   the file's value as JSON on stdout (exit 0), or
//                              "FILE:LINE:COL: message" on stderr (exit 1)

#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "tether/json5/json5.hpp"

namespace tether::tools {

int run_config(const std::vector<std::string>& args) {
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "help")) {
        std::cout << "Usage: tether config print FILE   (prints a JSON5 file as JSON)\n";
        return 0;
    }
    if (args.size() != 2 || args[0] != "print") {
        std::cerr << "Error: usage: tether config print FILE\n";
        return 1;
    }
    try {
        // Infinity and NaN have no JSON form: dump() writes them as null. The reader
        // guarantees UTF-8, so dump() cannot throw on strings.
        std::cout << json5::parse_file(args[1]).dump(2) << "\n";
        return 0;
    } catch (const json5::parse_error& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
}

}  // namespace tether::tools
