#pragma once
// What `tether bench` is told on its command line, and the measuring helpers its modes
// share: CPU time, resident memory, percentiles.

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "tether/client/options.hpp"

namespace tether::tools {

struct bench_options {
    std::string mode;  // "pub" or "latency"
    std::string host = "127.0.0.1";
    std::uint16_t port = 1883;
    client::qos qos = client::qos::at_most_once;
    long count = 100'000;  // pub: messages; latency: messages measured after warm-up
    long size = 64;
    long inflight = 1000;
    long clients = 1;     // pub: concurrent connections (scale mode when more than one)
    long duration_s = 60; // pub --clients: how long each connection publishes
    double rate = 0;      // pub --clients: messages per second per connection (default 1);
                          // latency: messages per second (0: one at a time)
    bool qos_given = false;
    // Run the io_context with poll() in a loop instead of run(): the thread never sleeps,
    // so no wake-up latency, at the cost of a whole core.
    bool spin = false;
    // pub: the durable outbox in this directory (docs/PERSISTENCE.md); --persist-sync for
    // the power_loss level. Reported as client=tether-persist / tether-persist-sync.
    std::string persist{};
    bool persist_sync = false;
};

// Parses `args` (after "bench"). Returns false after printing the reason on stderr.
bool parse_bench_options(const std::vector<std::string>& args, bench_options& out);

int run_bench_pub(const bench_options& b);      // one connection, as fast as the window allows
int run_bench_scale(const bench_options& b);    // --clients C: many slow connections
int run_bench_latency(const bench_options& b);  // publisher -> broker -> subscriber

// Runs `task` on `io` until it finishes, then returns `status` (which the task sets; an
// exception escaping the task makes it 1). With `spin`, polls instead of blocking.
int run_to_completion(asio::io_context& io, asio::awaitable<void> task, int& status, bool spin = false);

// CPU seconds (user + system) used by this process so far.
double cpu_seconds();
// Resident set size of this process, in bytes (from /proc/self/statm).
std::uint64_t resident_bytes();
// Raises the soft limit of open files to the hard limit; returns the new soft limit.
std::uint64_t raise_open_file_limit();

// Percentile `p` (0..100) of `values` by the nearest-rank method; sorts `values`.
// Returns 0 for an empty set.
double percentile(std::vector<double>& values, double p);

}  // namespace tether::tools
