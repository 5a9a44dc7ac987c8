// parse_file: reading a file for parse(), with the file's problems reported the same way.

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

#include "tether/json5/json5.hpp"

namespace tether::json5 {

nlohmann::json parse_file(const std::filesystem::path& path, const limits& bounds) {
    const std::string name = path.string();
    const auto fail = [&](const std::string& message) { throw parse_error(name, 1, 1, message); };

    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) fail("cannot read: it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(std::string("cannot open: ") + std::strerror(errno));
    // Size first, so that a huge file is refused before it is read into memory.
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    if (size >= 0 && static_cast<std::uintmax_t>(size) > bounds.max_bytes) {
        fail("the file is " + std::to_string(size) + " bytes, over the limit of " + std::to_string(bounds.max_bytes));
    }
    in.seekg(0, std::ios::beg);
    std::string text;
    if (size > 0) text.reserve(static_cast<std::size_t>(size));
    // Read at most one byte past the limit: a file that grows while read is caught too.
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > bounds.max_bytes) break;
    }
    if (in.bad()) fail(std::string("cannot read: ") + std::strerror(errno));
    return parse(text, name, bounds);
}

}  // namespace tether::json5
