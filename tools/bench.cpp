// tether bench: the command's entry, and `bench pub` on one connection: publish `count`
// messages of `size` bytes as fast as the window allows and print one result line with
// msgs_per_s=...
//
// Timing runs from the first publish to: for QoS 0, the PUBACK of one final QoS 1 marker
// (the broker handles a connection's packets in order, so it has taken every earlier
// one); for QoS 1 and 2, the acknowledgement of the last message (PUBACK / PUBCOMP).

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "commands.hpp"
#include "tether/client/client.hpp"

namespace tether::tools {

namespace {

constexpr std::size_t drain_at = 64;  // queued messages

// One of the publishers of --persist-sync; the counters are run()'s, which waits for all.
asio::awaitable<void> group_worker(client::client& c, const bench_options& b, const std::string& payload,
                                   long& started, long& finished, std::error_code& failure) {
    while (started + 1 < b.count && !failure) {
        ++started;
        if (auto ec = co_await c.publish("bench/t", payload, b.qos, client::wait::none)) failure = ec;
    }
    ++finished;
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
    if (b.persist_sync) {
        // power_loss: publish_now() would pay one fdatasync per message. As an application
        // that wants group commit: many coroutines awaiting publish(), which share one.
        const long workers = std::min(b.inflight, b.count - 1);
        long started = 0, finished = 0;
        std::error_code failure;
        for (long w = 0; w < workers; ++w) {
            asio::co_spawn(co_await asio::this_coro::executor,
                           group_worker(c, b, payload, started, finished, failure), asio::detached);
        }
        asio::steady_timer tick(co_await asio::this_coro::executor);
        while (finished < workers) {
            tick.expires_after(std::chrono::milliseconds(1));
            co_await tick.async_wait(asio::use_awaitable);
        }
        if (failure) {
            std::cerr << "Error: publish: " << failure.message() << "\n";
            status = 1;
            co_return;
        }
    }
    for (long i = 0; !b.persist_sync && i + 1 < b.count; ++i) {
        if (const auto ec = c.publish_now("bench/t", payload, b.qos)) {
            std::cerr << "Error: publish: " << ec.message() << "\n";
            status = 1;
            co_return;
        }
        // Keep pace with the link: past the window (QoS 1/2) or a full write buffer (QoS 0)
        // messages wait in the offline queue, a copy each; let the I/O run instead.
        if (c.queued() >= drain_at) {
            if (const auto ec = co_await c.drain()) {
                std::cerr << "Error: " << ec.message() << "\n";
                status = 1;
                co_return;
            }
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
    const char* name = b.persist.empty() ? "tether" : b.persist_sync ? "tether-persist-sync" : "tether-persist";
    std::printf("client=%s qos=%d size=%ld count=%ld inflight=%ld seconds=%.4f msgs_per_s=%.0f MB_per_s=%.2f cpu_s=%.3f\n",
                name, static_cast<int>(b.qos), b.size, b.count, b.inflight, seconds, static_cast<double>(b.count) / seconds,
                static_cast<double>(b.count * b.size) / seconds / 1e6, cpu);
    if (b.persist_sync) {
        std::printf("# fsyncs_per_msg=%.4f\n", static_cast<double>(c.stats().journal_syncs) / static_cast<double>(b.count));
    }
    (void)co_await c.disconnect(std::chrono::seconds(10));
}

}  // namespace

int run_bench(const std::vector<std::string>& args) {
    bench_options b;
    if (!parse_bench_options(args, b)) return 1;
    if (b.mode == "latency") return run_bench_latency(b);
    if (b.clients > 1) return run_bench_scale(b);
    return run_bench_pub(b);
}

int run_bench_pub(const bench_options& b) {
    asio::io_context io;
    client::options o;
    o.host = b.host;
    o.port = b.port;
    o.client_id = "tether-bench-" + std::to_string(::getpid());
    o.window = static_cast<std::uint16_t>(b.inflight);
    o.offline_queue_limit = static_cast<std::size_t>(b.count) + 1;  // the whole run may queue
    o.reconnect.enabled = false;
    o.persistence.directory = b.persist;
    o.persistence.level = b.persist_sync ? client::durability::power_loss : client::durability::process_crash;
    client::client c(io.get_executor(), o);
    int status = 0;
    return run_to_completion(io, run(c, b, status), status, b.spin);
}

}  // namespace tether::tools
