// write_file_atomically: the content and mode asked for, an old file replaced whole, and a
// clear error (no stray temporary file) when the folder is missing.

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "provisioning/atomic_file.hpp"

namespace tether::cloud::provisioning {
namespace {

namespace fs = std::filesystem;

struct temp_dir {
    temp_dir() {
        char tmpl[] = "/tmp/tether-atomic-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~temp_dir() { fs::remove_all(path); }
    fs::path path;
};

std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

unsigned mode_of(const fs::path& p) {
    struct stat st{};
    ::stat(p.c_str(), &st);
    return st.st_mode & 07777;
}

TEST(AtomicFile, WritesContentWithTheModeAndReplacesWhole) {
    temp_dir d;
    const fs::path f = d.path / "crl.pem";
    write_file_atomically(f, "first, longer content", fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_EQ(read(f), "first, longer content");
    EXPECT_EQ(mode_of(f), 0600u);
    write_file_atomically(f, "second", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                           fs::perms::others_read);
    EXPECT_EQ(read(f), "second");
    EXPECT_EQ(mode_of(f), 0644u);
    EXPECT_EQ(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()), 1);  // no temporary left
}

TEST(AtomicFile, MissingFolderIsAnErrorNamingThePath) {
    temp_dir d;
    try {
        write_file_atomically(d.path / "no" / "file", "x", fs::perms::owner_read);
        FAIL() << "no error";
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find("no/file"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace tether::cloud::provisioning
