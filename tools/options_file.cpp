#include "options_file.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>

namespace tether::tools {
namespace {

constexpr std::size_t max_line = 64 * 1024;

std::filesystem::path file_of(mode m) {
    const char* name = m == mode::pub ? "mosquitto_pub" : "mosquitto_sub";
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / name;
    if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".config" / name;
    return {};
}

bool names_a_broker(const std::string& a) {
    return a == "-h" || a == "--host" || a == "-L" || a == "--url" || a == "--unix";
}

}  // namespace

std::optional<options_file> read_options_file(mode m, std::string& error) {
    options_file f{file_of(m), {}};
    if (f.path.empty()) return f;
    std::error_code ec;
    if (!std::filesystem::exists(f.path, ec)) return f;
    std::ifstream in(f.path);
    if (!in) {
        error = "Error: cannot read the options file " + f.path.string() + ".";
        return std::nullopt;
    }
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() > max_line) {
            error = "Error: a line of the options file " + f.path.string() + " is longer than 64 KiB.";
            return std::nullopt;
        }
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
        if (line.empty() || line.front() == '#') continue;
        const auto space = line.find(' ');
        f.args.push_back(line.substr(0, space));
        if (space != std::string::npos && space + 1 < line.size()) f.args.push_back(line.substr(space + 1));
    }
    if (in.bad()) {
        error = "Error: cannot read the options file " + f.path.string() + ".";
        return std::nullopt;
    }
    return f;
}

std::vector<std::string> with_options_file(const options_file& file, const std::vector<std::string>& command_line) {
    const bool broker_given = std::any_of(command_line.begin(), command_line.end(), names_a_broker);
    std::vector<std::string> all;
    for (std::size_t i = 0; i < file.args.size(); ++i) {
        const std::string& a = file.args[i];
        if (broker_given && (a == "-h" || a == "--host")) {
            ++i;  // and its value
            continue;
        }
        all.push_back(a);
    }
    all.insert(all.end(), command_line.begin(), command_line.end());
    return all;
}

}  // namespace tether::tools
