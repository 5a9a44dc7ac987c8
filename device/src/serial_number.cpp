// A random serial number for a device kit without one, saved once in device.json5.

#include "tether/device/serial_number.hpp"

#include <openssl/rand.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <system_error>

#include "tether/device/configuration.hpp"
#include "tether/device/identity_files.hpp"
#include "tether/json5/json5.hpp"

namespace tether::device {
namespace {

constexpr const char* file_name = "config/device.json5";
constexpr std::uintmax_t max_file_size = 1 << 20;  // a configuration file, not a data set

std::string random_serial() {
    unsigned char bytes[8];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        throw std::system_error(std::make_error_code(std::errc::io_error), "no random bytes for a serial number");
    }
    static const char hex[] = "0123456789abcdef";
    std::string s;
    for (const unsigned char b : bytes) {
        s += hex[b >> 4];
        s += hex[b & 15];
    }
    return s;
}

// Where the top-level '{' of a JSON5 text is: after a byte order mark, white space and
// comments. npos if the text does not start with one.
std::size_t opening_brace(const std::string& text) {
    std::size_t i = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            ++i;
        } else if (text.compare(i, 2, "//") == 0) {
            i = text.find('\n', i);
        } else if (text.compare(i, 2, "/*") == 0) {
            i = text.find("*/", i + 2);
            if (i != std::string::npos) i += 2;
        } else {
            return c == '{' ? i : std::string::npos;
        }
    }
    return std::string::npos;
}

}  // namespace

std::string ensure_serial_number(const std::filesystem::path& dir) {
    const auto path = dir / file_name;
    std::string text;
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        const auto size = std::filesystem::file_size(path, ec);
        if (ec) throw std::system_error(ec, path.string());
        if (size > max_file_size) throw configuration_error(file_name, "", "larger than 1 MiB");
        std::ifstream in(path, std::ios::binary);
        if (!in) throw std::system_error(std::make_error_code(std::errc::permission_denied), path.string());
        text.assign(std::istreambuf_iterator<char>(in), {});
        nlohmann::json parsed;
        try {
            parsed = json5::parse(text, path.string());
        } catch (const std::exception& e) {
            throw configuration_error(file_name, "", e.what());
        }
        if (!parsed.is_object()) throw configuration_error(file_name, "", "expected an object");
        for (const char* key : {"serialNumber", "serial"}) {
            const auto it = parsed.find(key);
            if (it != parsed.end() && it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
        }
    } else if (ec) {
        throw std::system_error(ec, path.string());
    }

    const std::string serial = random_serial();
    const std::string entry = "\n  serialNumber: '" + serial + "',  // made by the device: its kit had none\n";
    if (text.empty()) {
        text = "{" + entry + "}\n";
    } else {
        const std::size_t brace = opening_brace(text);
        if (brace == std::string::npos) throw configuration_error(file_name, "", "expected an object");
        text.insert(brace + 1, entry);
    }
    std::filesystem::create_directories(path.parent_path());
    write_file_durably(path, text,
                       std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                           std::filesystem::perms::group_read | std::filesystem::perms::others_read);
    return serial;
}

}  // namespace tether::device
