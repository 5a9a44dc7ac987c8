// tether bench pub: publish `count` messages of `size` bytes as fast as the window allows
// and print one result line with msgs_per_s=...
//
// Timing runs from the first publish to: for QoS 0, the PUBACK of one final QoS 1 marker
// (the broker handles a connection's packets in order, so it has taken every earlier
// one); for QoS 1 and 2, the acknowledgement of the last message (PUBACK / PUBCOMP).

#include <sys/resource.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "tether/client/client.hpp"

namespace tether::tools {

namespace {

struct bench_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 1883;
    client::qos qos = client::qos::at_most_once;
    long count = 100'000;
    long size = 64;
    long inflight = 1000;
};

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

bool number(const std::string& s, long low, long high, long& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size() && out >= low && out <= high;
}

asio::awaitable<void> run(client::client& c, const bench_options& b, int& status) {
    if (const auto ec = co_await c.connect()) {
        std::cerr << "Error: " << ec.message() << "\n";
        status = 1;
        co_return;
    }
    const std::string payload(static_cast<std::size_t>(b.size), 'x');
    const double cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i + 1 < b.count; ++i) {
        if (const auto ec = c.publish_now("bench/t", payload, b.qos)) {
            std::cerr << "Error: publish: " << ec.message() << "\n";
            status = 1;
            co_return;
        }
    }
    // The last message, or the QoS 1 marker after QoS 0 ones, with wait::ack.
    const auto last_qos = b.qos == client::qos::at_most_once ? client::qos::at_least_once : b.qos;
    if (const auto ec = co_await c.publish("bench/t", payload, last_qos, client::wait::ack)) {
        std::cerr << "Error: publish: " << ec.message() << "\n";
        status = 1;
        co_return;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = cpu_seconds() - cpu0;
    std::printf("client=tether qos=%d size=%ld count=%ld inflight=%ld seconds=%.4f msgs_per_s=%.0f MB_per_s=%.2f cpu_s=%.3f\n",
                static_cast<int>(b.qos), b.size, b.count, b.inflight, seconds, static_cast<double>(b.count) / seconds,
                static_cast<double>(b.count * b.size) / seconds / 1e6, cpu);
    (void)co_await c.disconnect(std::chrono::seconds(10));
}

}  // namespace

int run_bench(const std::vector<std::string>& args) {
    if (args.empty() || args[0] != "pub") {
        std::cerr << "Usage: tether bench pub --host H --port P --qos Q --count N --size BYTES --inflight W\n";
        return 1;
    }
    bench_options b;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (i + 1 >= args.size()) {
            std::cerr << "Error: " << a << " needs a value.\n";
            return 1;
        }
        const std::string& v = args[++i];
        long n = 0;
        bool ok = true;
        if (a == "--host") {
            b.host = v;
        } else if (a == "--port") {
            ok = number(v, 1, 65535, n), b.port = static_cast<std::uint16_t>(n);
        } else if (a == "--qos") {
            ok = number(v, 0, 2, n), b.qos = static_cast<client::qos>(n);
        } else if (a == "--count") {
            ok = number(v, 1, 1'000'000'000, b.count);
        } else if (a == "--size") {
            ok = number(v, 0, 256 * 1024 * 1024, b.size);
        } else if (a == "--inflight") {
            ok = number(v, 1, 65000, b.inflight);
        } else {
            std::cerr << "Error: Unknown option '" << a << "'.\n";
            return 1;
        }
        if (!ok) {
            std::cerr << "Error: Invalid value for " << a << ": " << v << "\n";
            return 1;
        }
    }
    asio::io_context io;
    client::options o;
    o.host = b.host;
    o.port = b.port;
    o.client_id = "tether-bench-" + std::to_string(::getpid());
    o.window = static_cast<std::uint16_t>(b.inflight);
    o.offline_queue_limit = static_cast<std::size_t>(b.count) + 1;  // the whole run may queue
    o.reconnect.enabled = false;
    client::client c(io.get_executor(), o);
    int status = 0;
    asio::co_spawn(io, run(c, b, status), [&](std::exception_ptr e) {
        if (e) status = 1;
        io.stop();
    });
    io.run();
    return status;
}

}  // namespace tether::tools
