// Heap allocations per published message in steady state, counted by replacing the
// global operator new in this test program. The design says: none for small messages.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "../support/broker.hpp"
#include "../support/coro_test.hpp"
#include "tether/client/client.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
}

void* operator new(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::aligned_alloc(static_cast<std::size_t>(a), (n + static_cast<std::size_t>(a) - 1) /
                                                                       static_cast<std::size_t>(a) *
                                                                       static_cast<std::size_t>(a))) {
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace tether::client {
namespace {

using namespace std::chrono_literals;

class Allocations : public testing::TestWithParam<int> {};

TEST_P(Allocations, NonePerPublishedMessageInSteadyState) {
    const auto q = static_cast<qos>(GetParam());
    // mosquitto leaves Nagle's algorithm on by default: its small PUBACKs then wait for our
    // delayed ACKs, 40 ms a round. Not what this test measures.
    test::mosquitto_broker broker({.extra_config = "set_tcp_nodelay true"});
    test::run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o;
        o.host = "127.0.0.1";
        o.port = broker.port();
        o.client_id = "frugal";
        o.window = 100;
        client c(io.get_executor(), o);
        CO_ASSERT(!(co_await c.connect()));
        const std::string payload(64, 'x');
        // Batches of 50 within the window (64), each followed by a ping whose answer
        // shows the broker has acknowledged the batch: the publish path proper, without
        // the offline queue (which copies what it holds).
        auto burst = [&](int batches, int per_batch) -> asio::awaitable<void> {
            for (int b = 0; b < batches; ++b) {
                for (int i = 0; i < per_batch; ++i) (void)co_await c.publish("frugal/t", payload, q, wait::none);
                (void)co_await c.ping();
            }
        };
        co_await burst(60, 50);  // warm-up: pools, buffers and caches reach their size
        std::size_t before = allocations.load();
        co_await burst(100, 0);  // the pings alone
        const std::size_t pings_only = allocations.load() - before;
        before = allocations.load();
        constexpr int batches = 100;
        constexpr int per_batch = 50;
        co_await burst(batches, per_batch);
        const std::size_t with_messages = allocations.load() - before;
        const auto per_message = (static_cast<double>(with_messages) - static_cast<double>(pings_only)) /
                                 (batches * per_batch);
        std::cout << "[ allocs   ] QoS " << GetParam() << ": " << with_messages << " allocations for "
                  << batches * per_batch << " messages of 64 B and " << batches << " pings; " << pings_only
                  << " for the pings alone: " << per_message << " per message\n";
        if (q != qos::exactly_once) {
            EXPECT_LE(with_messages, pings_only + 10);  // nothing that grows with the messages
        } else {
            // Not zero yet: QoS 2's many small reads and writes (PUBREC in, PUBREL out, PUBCOMP
            // in) make Asio's per-thread frame cache hand blocks of one size to requests of
            // another, about one allocation per message. Callback I/O with a handler
            // allocator of our own removes it (the performance issue). Guard the bound.
            EXPECT_LE(per_message, 2.0);  // measured 0.8 to 1.2 between runs
        }
        EXPECT_FALSE(co_await c.disconnect());
    });
}

INSTANTIATE_TEST_SUITE_P(Qos, Allocations, testing::Values(0, 1, 2));

}  // namespace
}  // namespace tether::client
