#include "bench_options.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace tether::tools {

namespace {

constexpr const char* usage =
    "Usage: tether bench pub --host H --port P --qos Q --count N --size BYTES --inflight W\n"
    "                        [--persist DIR [--persist-sync]]\n"
    "       tether bench pub --clients C [--duration S] [--rate R] [--qos Q] [--size BYTES] ...\n"
    "       tether bench latency --host H --port P --qos Q --count N --size BYTES [--rate R] [--spin]\n";

template <class T>
bool number(const std::string& s, T low, T high, T& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size() && out >= low && out <= high;
}

}  // namespace

bool parse_bench_options(const std::vector<std::string>& args, bench_options& b) {
    if (args.empty() || (args[0] != "pub" && args[0] != "latency")) {
        std::cerr << usage;
        return false;
    }
    b.mode = args[0];
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--spin") {
            b.spin = true;
            continue;
        }
        if (a == "--persist-sync") {
            b.persist_sync = true;
            continue;
        }
        if (i + 1 >= args.size()) {
            std::cerr << "Error: " << a << " needs a value.\n";
            return false;
        }
        const std::string& v = args[++i];
        long n = 0;
        bool ok = true;
        if (a == "--host") {
            b.host = v;
        } else if (a == "--port") {
            ok = number(v, 1L, 65535L, n), b.port = static_cast<std::uint16_t>(n);
        } else if (a == "--qos") {
            ok = number(v, 0L, 2L, n), b.qos = static_cast<client::qos>(n), b.qos_given = true;
        } else if (a == "--count") {
            ok = number(v, 1L, 1'000'000'000L, b.count);
        } else if (a == "--size") {
            ok = number(v, 0L, 256L * 1024 * 1024, b.size);
        } else if (a == "--inflight") {
            ok = number(v, 1L, 65000L, b.inflight);
        } else if (a == "--persist") {
            b.persist = v;
        } else if (a == "--clients") {
            ok = number(v, 1L, 1'000'000L, b.clients);
        } else if (a == "--duration") {
            ok = number(v, 1L, 86'400L, b.duration_s);
        } else if (a == "--rate") {
            ok = number(v, 0.0, 1e7, b.rate);
        } else {
            std::cerr << "Error: Unknown option '" << a << "'.\n";
            return false;
        }
        if (!ok) {
            std::cerr << "Error: Invalid value for " << a << ": " << v << "\n";
            return false;
        }
    }
    return true;
}

int run_to_completion(asio::io_context& io, asio::awaitable<void> task, int& status, bool spin) {
    asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) {
        if (e) status = 1;
        io.stop();
    });
    if (spin) {
        while (!io.stopped()) io.poll();
    } else {
        io.run();
    }
    return status;
}

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::uint64_t resident_bytes() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) return 0;
    unsigned long long size = 0, resident = 0;
    const int got = std::fscanf(f, "%llu %llu", &size, &resident);
    std::fclose(f);
    if (got != 2) return 0;
    return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::uint64_t raise_open_file_limit() {
    rlimit l{};
    if (getrlimit(RLIMIT_NOFILE, &l) != 0) return 0;
    l.rlim_cur = l.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &l);
    getrlimit(RLIMIT_NOFILE, &l);
    return l.rlim_cur;
}

double percentile(std::vector<double>& values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    // Nearest rank: the smallest value with at least p% of the set at or below it.
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

}  // namespace tether::tools
