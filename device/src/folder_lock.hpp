#pragma once
// One device per folder. Two device objects (or processes) on one folder would each
// provision and overwrite the other's identity files, and connect with one client id, which
// the broker lets only one of them hold [MQTT-3.1.4-2]. The first to start takes an flock
// on DIR/device.lock and holds it until the device is stopped or destroyed and any
// provisioning it started has finished (and saved what the cloud issued).
// An flock, not fcntl's record lock: it belongs to the open file, so it also keeps apart
// two device objects of one process, and the kernel drops it when the process dies.

#include <filesystem>
#include <system_error>

namespace tether::device::detail {

class folder_lock {
public:
    folder_lock() = default;
    ~folder_lock();  // releases the lock
    folder_lock(const folder_lock&) = delete;
    folder_lock& operator=(const folder_lock&) = delete;

    // Takes the lock of `dir`: DIR/device.lock, made with mode 0600 if missing (never
    // through a symbolic link), locked without waiting. Does nothing if held already.
    // Errors: errc::folder_in_use (another device object or process holds it); the
    // std::errc of opening the file (permission_denied, no_such_file_or_directory,
    // too_many_symbolic_link_levels for a link in its place, ...). On a read-only file
    // system it succeeds without a lock: nothing can be written there, by anyone.
    [[nodiscard]] std::error_code take(const std::filesystem::path& dir);
    void release() noexcept;
    [[nodiscard]] bool held() const noexcept { return fd_ >= 0; }

private:
    int fd_ = -1;
};

}  // namespace tether::device::detail
