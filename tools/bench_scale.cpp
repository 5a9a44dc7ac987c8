// tether bench pub --clients C: C concurrent connections from one process, each
// publishing `rate` messages a second (default 1) at QoS `qos` (default 1) for `duration`
// seconds (default 60), spread evenly over each second. Prints one result line:
// connect time, resident memory per idle connection and per busy connection, messages per
// second, and latency percentiles from publish to acknowledgement (QoS 0: to written).

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "tether/client/client.hpp"

namespace tether::tools {

namespace {

using clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr long connect_concurrency = 256;  // connects under way at once: keeps the broker's accept queue short

struct scale_run {
    scale_run(const bench_options& opts, asio::io_context& io) : b(opts), phase_over(io) {}
    const bench_options& b;
    std::vector<std::unique_ptr<client::client>> clients;
    std::string payload;
    std::vector<double> latencies_us;
    long next_to_connect = 0;
    long busy = 0;  // coroutines of the current phase still running
    asio::steady_timer phase_over;  // cancelled when the last of them finishes
    long errors = 0;
    std::string first_error;
    std::uint64_t base_rss = 0;  // before the clients were made

    void finished() {
        if (--busy == 0) phase_over.cancel();
    }
    void fail(const char* what, std::error_code ec) {
        if (errors++ == 0) first_error = std::string(what) + ": " + ec.message();
    }
};

double per_connection(const scale_run& r, std::uint64_t rss) {
    return static_cast<double>(rss - r.base_rss) / static_cast<double>(r.clients.size());
}

// Waits until every coroutine of a phase has finished.
asio::awaitable<void> join(scale_run& r) {
    while (r.busy != 0) {
        r.phase_over.expires_at(asio::steady_timer::time_point::max());
        co_await r.phase_over.async_wait(use_tuple);
    }
}

asio::awaitable<void> connector(scale_run& r) {
    while (r.next_to_connect < static_cast<long>(r.clients.size())) {
        auto& c = *r.clients[static_cast<std::size_t>(r.next_to_connect++)];
        if (const auto ec = co_await c.connect()) r.fail("connect", ec);
    }
    r.finished();
}

asio::awaitable<void> publisher(scale_run& r, std::size_t i, clock::time_point start) {
    auto& c = *r.clients[i];
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const double rate = r.b.rate > 0 ? r.b.rate : 1.0;
    const auto period = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(1.0 / rate));
    // Connection i starts i/C of a period late, so the load is even rather than in bursts.
    const auto first = start + period * static_cast<long>(i) / static_cast<long>(r.clients.size());
    const auto messages = static_cast<long>(static_cast<double>(r.b.duration_s) * rate);
    for (long k = 0; k < messages; ++k) {
        timer.expires_at(first + period * k);
        co_await timer.async_wait(use_tuple);
        const auto t0 = clock::now();
        if (const auto ec = co_await c.publish("bench/scale", r.payload, r.b.qos, client::wait::ack)) {
            r.fail("publish", ec);
            break;
        }
        r.latencies_us.push_back(std::chrono::duration<double, std::micro>(clock::now() - t0).count());
    }
    r.finished();
}

asio::awaitable<void> disconnector(scale_run& r, client::client& c) {
    (void)co_await c.disconnect(std::chrono::seconds(5));
    r.finished();
}

asio::awaitable<void> run(scale_run& r, asio::io_context& io, int& status) {
    const auto t0 = clock::now();
    const long workers = std::min<long>(connect_concurrency, static_cast<long>(r.clients.size()));
    r.busy = workers;
    for (long w = 0; w < workers; ++w) asio::co_spawn(io, connector(r), asio::detached);
    co_await join(r);
    const double connect_s = std::chrono::duration<double>(clock::now() - t0).count();
    if (r.errors != 0) {
        std::cerr << "Error: " << r.errors << " connections failed, the first with " << r.first_error << "\n";
        status = 1;
        co_return;
    }
    // Idle for a second, so that every connection has settled, then measure.
    asio::steady_timer pause(io, std::chrono::seconds(1));
    co_await pause.async_wait(use_tuple);
    const std::uint64_t idle_rss = resident_bytes();

    const double cpu0 = cpu_seconds();
    const auto start = clock::now();
    r.busy = static_cast<long>(r.clients.size());
    for (std::size_t i = 0; i < r.clients.size(); ++i) asio::co_spawn(io, publisher(r, i, start), asio::detached);
    co_await join(r);
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    const std::uint64_t busy_rss = resident_bytes();
    const std::uint64_t latency_record = r.latencies_us.size() * sizeof(double);  // the bench's, not the clients'
    const double cpu = cpu_seconds() - cpu0;
    const auto n = static_cast<double>(r.latencies_us.size());
    auto& lat = r.latencies_us;
    std::printf(
        "client=tether clients=%zu qos=%d size=%ld duration_s=%ld connect_s=%.2f idle_rss_per_conn_B=%.0f "
        "busy_rss_per_conn_B=%.0f msgs=%.0f msgs_per_s=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f "
        "cpu_s=%.2f errors=%ld\n",
        r.clients.size(), static_cast<int>(r.b.qos), r.b.size, r.b.duration_s, connect_s,
        per_connection(r, idle_rss), per_connection(r, busy_rss - latency_record), n, n / seconds, percentile(lat, 50),
        percentile(lat, 90), percentile(lat, 99), percentile(lat, 100), cpu, r.errors);
    if (r.errors != 0) {
        std::cerr << "Error: " << r.errors << " publishes failed, the first with " << r.first_error << "\n";
        status = 1;
    }
    std::fflush(stdout);
    r.busy = static_cast<long>(r.clients.size());
    for (auto& c : r.clients) asio::co_spawn(io, disconnector(r, *c), asio::detached);
    co_await join(r);
}

}  // namespace

int run_bench_scale(const bench_options& b) {
    const std::uint64_t files = raise_open_file_limit();
    if (files < static_cast<std::uint64_t>(b.clients) + 64) {
        std::cerr << "Error: " << b.clients << " connections need more open files than the limit of " << files
                  << " (raise the hard limit: ulimit -Hn)\n";
        return 1;
    }
    bench_options opts = b;
    if (!b.qos_given) opts.qos = client::qos::at_least_once;
    asio::io_context io(1);
    scale_run r(opts, io);
    r.payload.assign(static_cast<std::size_t>(opts.size), 'x');
    r.clients.reserve(static_cast<std::size_t>(opts.clients));
    r.latencies_us.reserve(static_cast<std::size_t>(static_cast<double>(opts.clients * opts.duration_s) *
                                                    (opts.rate > 0 ? opts.rate : 1.0)));
    r.base_rss = resident_bytes();
    for (long i = 0; i < opts.clients; ++i) {
        client::options o;
        o.host = opts.host;
        o.port = opts.port;
        o.client_id = "tether-scale-" + std::to_string(::getpid()) + "-" + std::to_string(i);
        o.reconnect.enabled = false;  // a lost connection is an error here, not something to hide
        r.clients.push_back(std::make_unique<client::client>(io.get_executor(), o));
    }
    int status = 0;
    return run_to_completion(io, run(r, io, status), status, opts.spin);
}

}  // namespace tether::tools
