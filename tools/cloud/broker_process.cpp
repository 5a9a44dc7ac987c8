#include "broker_process.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "provisioning/atomic_file.hpp"

extern char** environ;

namespace tether::tools::cloud {

namespace fs = std::filesystem;

namespace {

std::string find_mosquitto() {
    for (const char* p : {"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto"}) {
        if (::access(p, X_OK) == 0) return p;
    }
    throw std::runtime_error("mosquitto is not installed (apt-get install mosquitto)");
}

// Waits for `pid` (not necessarily our child) to be gone; true if it went within `limit`.
bool wait_gone(pid_t pid, bool child, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        if (child) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) return true;
        } else if (::kill(pid, 0) != 0 && errno == ESRCH) {
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void terminate(pid_t pid, bool child, std::chrono::milliseconds limit) {
    ::kill(pid, SIGTERM);
    if (wait_gone(pid, child, limit)) return;
    ::kill(pid, SIGKILL);
    (void)wait_gone(pid, child, std::chrono::seconds(10));
}

}  // namespace

pid_t running_broker(const fs::path& pid_file, const fs::path& conf) {
    std::ifstream in(pid_file);
    long pid = 0;
    if (!(in >> pid) || pid <= 1) return -1;
    // /proc/PID/cmdline: the arguments, each ended by NUL. Ours is "mosquitto -c CONF".
    std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
    std::vector<std::string> args;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t end = text.find('\0', start);
        args.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    if (args.size() != 3 || fs::path(args[0]).filename() != "mosquitto" || args[1] != "-c" || args[2] != conf.string()) {
        return -1;
    }
    return static_cast<pid_t>(pid);
}

void broker_process::reload() const {
    if (pid_ > 0 && !exited_) ::kill(pid_, SIGHUP);
}

void broker_process::start(const fs::path& conf) {
    if (const pid_t old = running_broker(pid_file_, conf); old > 0) terminate(old, false, std::chrono::seconds(10));
    std::string exe = find_mosquitto();
    std::string c = conf.string();
    std::string dash_c = "-c";
    std::vector<char*> argv{exe.data(), dash_c.data(), c.data(), nullptr};
    if (::posix_spawn(&pid_, exe.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
        pid_ = -1;
        throw std::runtime_error("cannot start " + exe);
    }
    tether::cloud::provisioning::write_file_atomically(pid_file_, std::to_string(pid_) + "\n",
                                                       fs::perms::owner_read | fs::perms::owner_write);
}

bool broker_process::exited() {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;  // reaped: its id may be reused, never signal it again
        exited_ = true;
        std::error_code ignored;
        fs::remove(pid_file_, ignored);
    }
    return exited_;
}

void broker_process::stop(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return;
    terminate(pid_, true, limit);
    pid_ = -1;
    std::error_code ignored;
    fs::remove(pid_file_, ignored);
}

}  // namespace tether::tools::cloud
