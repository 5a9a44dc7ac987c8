#pragma once
// The mosquitto `tether-cloud run` starts: Debian's binary with DIR/broker/mosquitto.conf,
// its process id kept in DIR/broker/mosquitto.pid so that a run that died (SIGKILL, a
// crash) does not leave a broker behind for good: the next run stops that one first.
//
// Stopping it with SIGTERM lets mosquitto write its persistence file, so QoS 1 messages
// queued for the cloud service's persistent session survive a restart of the broker.

#include <sys/types.h>

#include <chrono>
#include <filesystem>

namespace tether::tools::cloud {

class broker_process {
public:
    // `pid_file`: where the running broker's process id is kept.
    explicit broker_process(std::filesystem::path pid_file) : pid_file_(std::move(pid_file)) {}
    ~broker_process() { stop(); }
    broker_process(const broker_process&) = delete;
    broker_process& operator=(const broker_process&) = delete;

    // Stops a broker that the pid file names and that runs `conf` (left by a run that
    // died), then starts mosquitto -c conf. Throws std::runtime_error when mosquitto is not
    // installed, cannot be started, or the old one cannot be stopped.
    void start(const std::filesystem::path& conf);

    // Makes it read its configuration again (SIGHUP): mosquitto then re-reads `crlfile`, so
    // a revoked certificate's next handshake fails. Nothing when none was started here.
    void reload() const;

    // True once the broker started here has exited (it could not listen, say).
    [[nodiscard]] bool exited();

    // SIGTERM, waiting up to `limit` for it to exit (then SIGKILL); removes the pid file.
    // Nothing when none was started.
    void stop(std::chrono::milliseconds limit = std::chrono::seconds(10));

private:
    std::filesystem::path pid_file_;
    pid_t pid_ = -1;
    bool exited_ = false;
};

// The process id `pid_file` names if that process is alive and is a mosquitto running
// `conf`; -1 otherwise (no file, a stale id, another program).
[[nodiscard]] pid_t running_broker(const std::filesystem::path& pid_file, const std::filesystem::path& conf);

}  // namespace tether::tools::cloud
