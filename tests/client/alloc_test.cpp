// Heap allocations per published message in steady state, counted by replacing the
// global operator new in this test program (the design says: none for small messages),
// and the heap an idle connection holds.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <malloc.h>
#include <memory>
#include <vector>
#include <new>

#include "../support/broker.hpp"
#include "../support/coro_test.hpp"
#include "../support/loopback.hpp"
#include "tether/client/client.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
void* or_throw(void* p) {
    if (p == nullptr) throw std::bad_alloc();
    return p;
}
}  // namespace

void* operator new(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return or_throw(std::malloc(n == 0 ? 1 : n));
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    const auto align = static_cast<std::size_t>(a);
    return or_throw(std::aligned_alloc(align, (n + align - 1) / align * align));
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

options local(const test::mosquitto_broker& broker, std::string client_id) {
    return test::loopback(broker.port(), std::move(client_id));
}

class Allocations : public testing::TestWithParam<int> {};

TEST_P(Allocations, NonePerPublishedMessageInSteadyState) {
    const auto q = static_cast<qos>(GetParam());
    // mosquitto leaves Nagle's algorithm on by default: its small PUBACKs then wait for our
    // delayed ACKs, 40 ms a round. Not what this test measures.
    test::mosquitto_broker broker({.extra_config = "set_tcp_nodelay true"});
    test::run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o = local(broker, "frugal");
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
        // Nothing that grows with the messages, at every QoS: QoS 2's extra PUBREC, PUBREL and
        // PUBCOMP included (the connection's I/O runs in completion handlers whose operations
        // Asio's recycling allocator reuses).
        EXPECT_LE(with_messages, pings_only + 10);
        EXPECT_FALSE(co_await c.disconnect());
    });
}

INSTANTIATE_TEST_SUITE_P(Qos, Allocations, testing::Values(0, 1, 2));

// One at a time with wait::ack (QoS 1, 2) or wait::sent (QoS 0), as a device reporting a
// reading and waiting for it to be safe: the waiter is reused, nothing is allocated.
TEST_P(Allocations, NonePerAwaitedPublish) {
    const auto q = static_cast<qos>(GetParam());
    const wait how = q == qos::at_most_once ? wait::sent : wait::ack;
    test::mosquitto_broker broker({.extra_config = "set_tcp_nodelay true"});
    test::run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), local(broker, "patient"));
        CO_ASSERT(!(co_await c.connect()));
        const std::string payload(64, 'x');
        for (int i = 0; i < 500; ++i) CO_ASSERT(!(co_await c.publish("patient/t", payload, q, how)));  // warm-up
        const std::size_t before = allocations.load();
        constexpr int count = 2000;
        for (int i = 0; i < count; ++i) CO_ASSERT(!(co_await c.publish("patient/t", payload, q, how)));
        const std::size_t used = allocations.load() - before;
        std::cout << "[ allocs   ] QoS " << GetParam() << ", awaited one at a time: " << used << " allocations for "
                  << count << " messages\n";
        EXPECT_LE(used, 10u);
        EXPECT_FALSE(co_await c.disconnect());
    });
}

// The heap an idle connection holds, with the default options: the budget behind "at most
// 8 KiB of resident memory per idle plain-TCP connection" (tether bench pub --clients
// measures the resident figure; the kernel's socket buffers are not in it).
TEST(Memory, IdleConnectionHoldsLittleHeap) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "AddressSanitizer's allocator does not report to mallinfo2";
#endif
    test::mosquitto_broker broker;
    test::run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        constexpr int count = 100;
        std::vector<std::unique_ptr<client>> clients;
        clients.reserve(count);
        const auto before = static_cast<double>(mallinfo2().uordblks);  // every malloc, Asio's and OpenSSL's too
        for (int i = 0; i < count; ++i) {
            clients.push_back(std::make_unique<client>(io.get_executor(), local(broker, "idle-" + std::to_string(i))));
            CO_ASSERT(!(co_await clients.back()->connect()));
        }
        const double per_connection = (static_cast<double>(mallinfo2().uordblks) - before) / count;
        std::cout << "[ memory   ] " << per_connection << " bytes of heap per idle connection\n";
        EXPECT_LE(per_connection, 6 * 1024.0);
        for (auto& c : clients) (void)co_await c->disconnect();
    });
}

}  // namespace
}  // namespace tether::client
