// The device folder's lock (folder_lock.hpp).

#include "folder_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "tether/device/error.hpp"

namespace tether::device::detail {

folder_lock::~folder_lock() { release(); }

void folder_lock::release() noexcept {
    if (fd_ >= 0) ::close(fd_);  // the flock goes with the last descriptor of the open file
    fd_ = -1;
}

std::error_code folder_lock::take(const std::filesystem::path& dir) {
    if (fd_ >= 0) return {};
    const std::filesystem::path file = dir / "device.lock";
    // O_CLOEXEC: a program the application starts must not inherit (and so hold) the lock.
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EROFS) return {};
        return {errno, std::generic_category()};
    }
    // The umask may have taken bits away, never added any; a file left by an older
    // version with another mode is set right. It holds nothing secret: 0600 keeps other
    // users from taking the lock and so stopping the device from starting.
    struct stat st{};
    if (::fstat(fd, &st) == 0 && (st.st_mode & 07777) != 0600) (void)::fchmod(fd, 0600);
    int rc = 0;
    do {
        rc = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        const int error = errno;
        ::close(fd);
        if (error == EWOULDBLOCK) return make_error_code(errc::folder_in_use);
        return {error, std::generic_category()};
    }
    fd_ = fd;
    return {};
}

}  // namespace tether::device::detail
