// Durable, all-or-nothing saves of the provisioned identity (see identity_files.hpp).

#include "tether/device/identity_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <random>
#include <set>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

namespace tether::device {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& what, const fs::path& path, int error = errno) {
    throw std::system_error(error, std::generic_category(), what + " " + path.string());
}

void sync_folder(const fs::path& folder) {
    const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail("cannot open folder", folder);
    const int rc = ::fsync(fd);
    const int error = errno;
    ::close(fd);
    if (rc != 0) fail("cannot flush folder", folder, error);
}

void write_all(int fd, const std::string& content, const fs::path& path) {
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("cannot write", path);
        done += static_cast<std::size_t>(n);
    }
}

// A name no earlier save used: time and randomness, so that a save after a crash never
// reuses (and half-overwrites) a name the committed provision.json5 still points at.
std::string new_generation() {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    std::random_device rd;
    static const char hex[] = "0123456789abcdef";
    std::string g = std::to_string(ms) + "-";
    for (int i = 0; i < 8; ++i) g += hex[rd() & 15];
    return g;
}

// Removes certs/device-*.key and .crt except those named in `keep`.
void remove_stale(const fs::path& certs, const std::set<std::string>& keep) {
    std::error_code ec;
    if (!fs::is_directory(certs, ec)) return;
    for (const auto& entry : fs::directory_iterator(certs, ec)) {
        const std::string name = entry.path().filename().string();
        const bool ours = name.starts_with("device-") && (name.ends_with(".key") || name.ends_with(".crt") ||
                                                           name.find(".tmp") != std::string::npos);
        if (ours && !keep.contains(name)) fs::remove(entry.path(), ec);
    }
    sync_folder(certs);
}

constexpr fs::perms private_file = fs::perms::owner_read | fs::perms::owner_write;
constexpr fs::perms public_file = private_file | fs::perms::group_read | fs::perms::others_read;

}  // namespace

void write_file_durably(const fs::path& path, const std::string& content, fs::perms mode) {
    const fs::path temp = path.string() + ".tmp";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) fail("cannot create", temp);
    try {
        // O_CREAT's mode is filtered by the umask and ignored for a leftover file: set it.
        if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) fail("cannot set the mode of", temp);
        write_all(fd, content, temp);
        if (::fsync(fd) != 0) fail("cannot flush", temp);
    } catch (...) {
        ::close(fd);
        ::unlink(temp.c_str());
        throw;
    }
    if (::close(fd) != 0) {
        const int error = errno;
        ::unlink(temp.c_str());
        fail("cannot close", temp, error);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temp.c_str());
        fail("cannot rename to", path, error);
    }
    sync_folder(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

void save_identity(const fs::path& dir, const identity& id, const save_step_hook& hook) {
    if (id.thing.empty() || id.key_pem.empty() || id.certificate_pem.empty()) {
        throw std::invalid_argument("an identity needs a thing name, a key and a certificate");
    }
    const fs::path certs = dir / "certs";
    const fs::path config = dir / "config";
    fs::create_directories(certs);
    fs::create_directories(config);
    const std::string generation = new_generation();
    const std::string key_name = "device-" + generation + ".key";
    const std::string cert_name = "device-" + generation + ".crt";

    write_file_durably(certs / key_name, id.key_pem, private_file);
    if (hook) hook(1);
    write_file_durably(certs / cert_name, id.certificate_pem, public_file);
    if (hook) hook(2);

    nlohmann::json provision{{"id", id.thing},
                             {"thing", id.thing},
                             {"certificate", "certs/" + cert_name},
                             {"key", "certs/" + key_name}};
    if (!id.endpoint.empty()) provision["endpoint"] = id.endpoint;
    if (id.port != 0) provision["port"] = id.port;
    // JSON is JSON5; the comment line tells a reader where the file comes from.
    write_file_durably(config / "provision.json5",
                       "// Written by provisioning (PROTOCOL.md section 3). Delete to provision again.\n" +
                           provision.dump(4) + "\n",
                       public_file);
    if (hook) hook(3);
    remove_stale(certs, {key_name, cert_name});
    if (hook) hook(4);
}

void forget_identity(const fs::path& dir) {
    const fs::path file = dir / "config" / "provision.json5";
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) fail("cannot remove", file);
    sync_folder(dir / "config");
    remove_stale(dir / "certs", {});
}

}  // namespace tether::device
