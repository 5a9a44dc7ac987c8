#pragma once
// tether bench devices: N simulated devices against a running `tether-cloud run DIR`,
// end to end (device -> broker -> ingest -> database), beside the raw ceiling of the same
// broker (the same clients publishing to a subscriber that does nothing). Issue 12.
//
//   tether bench devices --cloud DIR --devices 10000 --rate 2 --duration 30 --kind store
//
// The parts, one file each: bench_devices.cpp (the run and its result line),
// bench_devices_identities.cpp (each device's own certificate, provisioned through the
// cloud's real claim flow once and cached), bench_devices_probe.cpp (the service's CPU and
// memory from /proc, and the database's count of what arrived).

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tether/client/options.hpp"

namespace tether::tools {

enum class write_kind { store, metric, mixed };

struct devices_options {
    std::filesystem::path cloud;      // DIR of `tether-cloud init`, with `run DIR` running
    long devices = 100;
    double rate = 1;                  // writes a second per device; 0: each as soon as the last is acknowledged
    long duration_s = 10;
    write_kind kind = write_kind::store;
    long ceiling_s = -1;              // the raw-ceiling phase's length; -1: as duration_s, 0: skipped
    std::filesystem::path identities; // the identity cache; empty: DIR/bench-devices
    long provision_concurrency = 8;   // claims under way at once while provisioning new devices
    long connect_concurrency = 64;    // TLS handshakes under way at once
    long commit_wait_s = 60;          // how long the database may show no progress before the rest counts as lost
    int service_pid = 0;              // 0: found from /proc (tether-cloud run DIR)
};

// Parses `args` (after "bench devices"). Returns false after printing the reason on stderr:
// an unknown option, a missing or out-of-range value, a missing --cloud.
[[nodiscard]] bool parse_devices_options(const std::vector<std::string>& args, devices_options& out);

int run_bench_devices(const std::vector<std::string>& args);

// One simulated device: its thing name (client id and certificate CN) and how to connect.
struct device_identity {
    std::string thing;
    client::options options;
};

// What preparing the identities did.
struct identities_report {
    long provisioned = 0;   // new identities made this run
    long cached = 0;        // found in the cache
    double seconds = 0;
    std::string error;      // empty on success: the first provisioning failure otherwise
};

// Makes sure `count` identities exist in `folder` (one sub-folder per device, a device
// directory in PROTOCOL.md §5's layout copied from DIR/kit, serial number bench-<i>) and
// returns them. Missing ones provision through the cloud (claim certificate, CSR, their own
// certificate), `concurrency` at once. The cache belongs to one CA: a folder holding
// identities of another CA (DIR initialised again) is emptied first. On failure, `report`
// says why and the result holds what was ready. Throws std::filesystem::filesystem_error
// for a folder it cannot make or read, and device::configuration_error for a bad kit.
[[nodiscard]] asio::awaitable<std::vector<device_identity>> prepare_identities(
    asio::any_io_executor executor, const std::filesystem::path& cloud_dir, const std::filesystem::path& folder,
    long count, long concurrency, identities_report& report);

// CPU seconds and resident bytes of another process, from /proc/PID/stat and statm.
struct process_sample {
    bool ok = false;          // false: the process is gone or /proc unreadable
    double cpu_s = 0;         // user + system
    std::uint64_t rss = 0;    // bytes
};
[[nodiscard]] process_sample sample_process(int pid);

// The process id of `tether-cloud run DIR` for this DIR (its /proc cmdline, with a relative
// DIR resolved against its working directory), or 0 when none runs.
[[nodiscard]] int find_service_pid(const std::filesystem::path& cloud_dir);
// mosquitto's process id from DIR/broker/mosquitto.pid when that process is alive, else 0.
[[nodiscard]] int find_broker_pid(const std::filesystem::path& cloud_dir);

// The database URL cloud.json5 names ("sqlite:PATH" or the PostgreSQL URL) and its engine
// name. Throws json5::parse_error, std::runtime_error for a file without database settings.
struct database_settings {
    std::string url;
    std::string engine;  // "sqlite" or "postgresql"
};
[[nodiscard]] database_settings read_database_settings(const std::filesystem::path& cloud_dir);

// How many of this run's writes the database holds: Store items whose key begins with
// "<tag>-" and the point count of the metric named `tag` (over every device's series, in
// the longest span, where nothing is pruned within a run). Throws storage::failure.
struct committed_count {
    std::int64_t store_rows = 0;
    std::int64_t metric_points = 0;
    std::int64_t metric_series = 0;
};
class database_counter {
public:
    // Connects to `url`. Throws std::runtime_error with the engine's message.
    explicit database_counter(const std::string& url);
    ~database_counter();
    database_counter(const database_counter&) = delete;
    database_counter& operator=(const database_counter&) = delete;
    [[nodiscard]] committed_count count(const std::string& tag);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace tether::tools
