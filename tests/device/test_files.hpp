#pragma once
// Files and folders for the device tests.

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace tether::device::test {

inline void write_text(const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p);
    out << text;
}

inline std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline unsigned mode_of(const std::filesystem::path& p) {
    struct stat st{};
    if (::stat(p.c_str(), &st) != 0) return 0xffffffffu;
    return st.st_mode & 07777;
}

struct temp_dir {
    temp_dir() {
        char tmpl[] = "/tmp/tether-device-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
        // mosquitto started as root runs as its own user: it must reach the files.
        std::filesystem::permissions(path, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                               std::filesystem::perms::others_exec);
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    std::filesystem::path path;
};

}  // namespace tether::device::test
