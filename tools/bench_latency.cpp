// tether bench latency: round trip publisher -> broker -> subscriber, two connections in
// one process. Each message carries its sequence number and its send time (the steady
// clock, which is CLOCK_MONOTONIC, as the peers in bench/ use); the subscriber takes the
// difference on arrival. --rate 0 (the default) sends one message at a time, the next once
// the previous has arrived; a positive rate sends on a fixed schedule. The first 200
// messages warm up and are not counted. Prints p50/p90/p99/max in microseconds and how
// many messages never arrived. --spin polls instead of sleeping (no wake-up latency, a
// whole core busy).

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "tether/client/client.hpp"

namespace tether::tools {

namespace {

using clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::int64_t warmup = 200;
constexpr std::size_t stamp_size = 16;  // sequence number, send time

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count();
}

struct latency_run {
    explicit latency_run(asio::io_context& io) : arrived(io) {}
    std::int64_t total = 0;
    std::vector<double> us;  // per measured message; -1: not arrived
    std::int64_t received = 0;
    asio::steady_timer arrived;  // cancelled on each arrival, to wake a publisher waiting for it

    void arrive(const client::message& m) {
        const std::int64_t at = now_ns();
        if (m.payload.size() < stamp_size) return;
        std::int64_t seq = 0, sent = 0;
        std::memcpy(&seq, m.payload.data(), 8);
        std::memcpy(&sent, m.payload.data() + 8, 8);
        if (seq >= warmup && seq < total) us[static_cast<std::size_t>(seq - warmup)] = static_cast<double>(at - sent) / 1e3;
        ++received;
        arrived.cancel();
    }
    // Waits until `target` messages have arrived or `limit` has passed.
    asio::awaitable<void> wait_for(std::int64_t target, clock::duration limit) {
        const auto deadline = clock::now() + limit;
        while (received < target && clock::now() < deadline) {
            arrived.expires_at(deadline);
            co_await arrived.async_wait(use_tuple);
        }
    }
};

asio::awaitable<void> run(client::client& pub, client::client& sub, latency_run& r, const bench_options& b,
                          int& status) {
    const std::string topic = "bench/lat/tether-" + std::to_string(::getpid());
    if (const auto ec = co_await sub.connect()) {
        std::cerr << "Error: " << ec.message() << "\n";
        status = 1;
        co_return;
    }
    client::subscription s{topic, b.qos, [&r](const client::message& m) { r.arrive(m); }};
    if (const auto sr = co_await sub.subscribe(std::move(s)); sr.ec) {
        std::cerr << "Error: subscribe: " << sr.ec.message() << "\n";
        status = 1;
        co_return;
    }
    if (const auto ec = co_await pub.connect()) {
        std::cerr << "Error: " << ec.message() << "\n";
        status = 1;
        co_return;
    }
    std::vector<std::uint8_t> payload(std::max<std::size_t>(stamp_size, static_cast<std::size_t>(b.size)));
    asio::steady_timer pace(co_await asio::this_coro::executor);
    const auto start = clock::now();
    for (std::int64_t seq = 0; seq < r.total; ++seq) {
        if (b.rate > 0) {
            pace.expires_at(start + std::chrono::duration_cast<clock::duration>(
                                        std::chrono::duration<double>(static_cast<double>(seq) / b.rate)));
            co_await pace.async_wait(use_tuple);
        }
        const std::int64_t sent = now_ns();
        std::memcpy(payload.data(), &seq, 8);
        std::memcpy(payload.data() + 8, &sent, 8);
        if (const auto ec = pub.publish_now(topic, payload, b.qos)) {
            std::cerr << "Error: publish: " << ec.message() << "\n";
            status = 1;
            co_return;
        }
        // One at a time: the next goes when this one has arrived, or after a second (lost).
        if (b.rate <= 0) co_await r.wait_for(seq + 1, std::chrono::seconds(1));
    }
    co_await r.wait_for(r.total, std::chrono::seconds(5));
    std::vector<double> got;
    for (const double v : r.us) {
        if (v >= 0) got.push_back(v);
    }
    const auto lost = static_cast<long>(r.us.size() - got.size());
    std::printf("client=tether qos=%d size=%zu count=%ld rate=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f lost=%ld\n",
                static_cast<int>(b.qos), payload.size(), b.count, b.rate, percentile(got, 50), percentile(got, 90),
                percentile(got, 99), percentile(got, 100), lost);
    std::fflush(stdout);
    (void)co_await pub.disconnect(std::chrono::seconds(5));
    (void)co_await sub.disconnect(std::chrono::seconds(5));
}

}  // namespace

int run_bench_latency(const bench_options& b) {
    asio::io_context io(1);
    client::options o;
    o.host = b.host;
    o.port = b.port;
    o.reconnect.enabled = false;
    o.window = static_cast<std::uint16_t>(b.inflight);
    o.client_id = "tether-lat-pub-" + std::to_string(::getpid());
    client::client pub(io.get_executor(), o);
    o.client_id = "tether-lat-sub-" + std::to_string(::getpid());
    client::client sub(io.get_executor(), o);
    latency_run r(io);
    r.total = warmup + b.count;
    r.us.assign(static_cast<std::size_t>(b.count), -1.0);
    int status = 0;
    return run_to_completion(io, run(pub, sub, r, b, status), status, b.spin);
}

}  // namespace tether::tools
