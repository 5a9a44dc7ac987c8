// Heap allocations per published message in steady state (the design says: none for small
// messages), and the heap an idle connection holds.
//
// Counted at the malloc level, not at operator new: Asio allocates coroutine frames and
// handler memory with aligned_alloc, and libraries call malloc directly. This program
// therefore replaces malloc, calloc, realloc, aligned_alloc, posix_memalign, memalign and
// valloc, and hands each call on to glibc's allocator (so mallinfo2 still sees everything).
//
// Not under AddressSanitizer: the sanitizer owns malloc, so a program cannot replace it,
// and its coroutine frames outgrow the blocks Asio recycles (at most 1 KiB), so what it
// would count is not what a normal build allocates. The tests say so and skip there.

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <malloc.h>
#include <memory>
#include <new>
#include <vector>

#include "../support/broker.hpp"
#include "../support/coro_test.hpp"
#include "../support/loopback.hpp"
#include "tether/client/client.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

#if !defined(__SANITIZE_ADDRESS__)

namespace {
void count_one() noexcept { allocations.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

// glibc's own entry points, which its malloc, calloc, ... call in turn.
extern "C" {
void* __libc_malloc(std::size_t n);
void* __libc_calloc(std::size_t count, std::size_t n);
void* __libc_realloc(void* p, std::size_t n);
void __libc_free(void* p);
void* __libc_memalign(std::size_t alignment, std::size_t n);
void* __libc_valloc(std::size_t n);

void* malloc(std::size_t n) noexcept {
    count_one();
    return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t n) noexcept {
    count_one();
    return __libc_calloc(count, n);
}
void* realloc(void* p, std::size_t n) noexcept {
    count_one();  // a new block, or at least a call into the allocator
    return __libc_realloc(p, n);
}
void free(void* p) noexcept { __libc_free(p); }
void* aligned_alloc(std::size_t alignment, std::size_t n) noexcept {
    count_one();
    return __libc_memalign(alignment, n);
}
void* memalign(std::size_t alignment, std::size_t n) noexcept {
    count_one();
    return __libc_memalign(alignment, n);
}
void* valloc(std::size_t n) noexcept {
    count_one();
    return __libc_valloc(n);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) noexcept {
    // The rule posix_memalign checks and memalign does not: a power of two, a multiple of
    // sizeof(void*).
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment % sizeof(void*) != 0) return EINVAL;
    count_one();
    void* p = __libc_memalign(alignment, n);
    if (p == nullptr) return ENOMEM;
    *out = p;
    return 0;
}
}

#endif

// The tests that count, skipped where nothing is counted.
#if defined(__SANITIZE_ADDRESS__)
#define SKIP_UNLESS_COUNTING() \
    GTEST_SKIP() << "allocations are counted in the build without AddressSanitizer (see the top of this file)"
#else
#define SKIP_UNLESS_COUNTING() static_cast<void>(0)
#endif

namespace tether::client {
namespace {

using namespace std::chrono_literals;

options local(const test::mosquitto_broker& broker, std::string client_id) {
    return test::loopback(broker.port(), std::move(client_id));
}

// Keeps the compiler from eliding an allocation whose result is never used.
void* volatile sink = nullptr;

// The counting itself: each way a library may take memory from the heap adds to the count,
// so that a test below cannot pass because its allocations went unseen.
TEST(AllocationCounting, SeesEveryWayToTakeHeapMemory) {
    SKIP_UNLESS_COUNTING();
    auto counted = [](auto allocate) {
        const std::size_t before = allocations.load();
        allocate();
        return allocations.load() - before;
    };
    EXPECT_GE(counted([] { sink = std::malloc(24); std::free(sink); }), 1u) << "malloc";
    EXPECT_GE(counted([] { sink = std::calloc(3, 8); std::free(sink); }), 1u) << "calloc";
    EXPECT_GE(counted([] { sink = std::realloc(nullptr, 40); std::free(sink); }), 1u) << "realloc";
    EXPECT_GE(counted([] { sink = std::aligned_alloc(64, 128); std::free(sink); }), 1u) << "aligned_alloc";
    EXPECT_GE(counted([] {
                  void* p = nullptr;
                  if (posix_memalign(&p, 64, 100) == 0) sink = p;
                  std::free(sink);
              }),
              1u)
        << "posix_memalign";
    EXPECT_GE(counted([] { sink = memalign(32, 100); std::free(sink); }), 1u) << "memalign";
    // Through `sink`: the compiler may leave out a new-expression whose result is unused.
    EXPECT_GE(counted([] {
                  sink = new std::vector<int>(5);
                  delete static_cast<std::vector<int>*>(sink);
              }),
              1u)
        << "operator new";
    struct alignas(64) wide {
        char bytes[64];
    };
    EXPECT_GE(counted([] {
                  sink = new wide;
                  delete static_cast<wide*>(sink);
              }),
              1u)
        << "aligned operator new";
    // A coroutine frame of an Asio awaitable: the allocation operator new never saw.
    EXPECT_GE(counted([] {
                  asio::io_context io;
                  asio::co_spawn(io, []() -> asio::awaitable<void> { co_return; }, asio::detached);
                  io.run();
              }),
              1u)
        << "asio::awaitable frame";
}

class Allocations : public testing::TestWithParam<int> {};

TEST_P(Allocations, SteadyStatePublishing) {
    SKIP_UNLESS_COUNTING();
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
        // Nothing that grows with the messages at QoS 0 and 1 (the connection's I/O runs in
        // completion handlers whose operations Asio's recycling allocator reuses). QoS 2 was
        // measured at 0.2 per message (1.3 before client::publish lost its own frame) once every allocation is counted (malloc level):
        // an open defect (issue 8 notes), bounded here so that it cannot grow unseen.
        const std::size_t allowed = q == qos::exactly_once ? 2 * batches * per_batch : 0;
        EXPECT_LE(with_messages, pings_only + 10 + allowed);
        EXPECT_FALSE(co_await c.disconnect());
    });
}

// The same with the durable outbox on (process_crash): each message is journaled, bound
// and removed — from buffers that keep their capacity, so nothing per message. A
// compaction (every 64 KiB or so of dead records) allocates a few times: bounded per 100.
TEST_P(Allocations, SteadyStatePublishingWithPersistence) {
    SKIP_UNLESS_COUNTING();
    const auto q = static_cast<qos>(GetParam());
    if (q == qos::at_most_once) GTEST_SKIP() << "QoS 0 is never journaled";
    test::mosquitto_broker broker({.extra_config = "set_tcp_nodelay true"});
    const auto dir = broker.dir() / "outbox";
    test::run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o = local(broker, "durable");
        o.window = 100;
        o.persistence.directory = dir.string();
        client c(io.get_executor(), o);
        CO_ASSERT(!(co_await c.connect()));
        const std::string payload(64, 'x');
        auto burst = [&](int batches, int per_batch) -> asio::awaitable<void> {
            for (int b = 0; b < batches; ++b) {
                for (int i = 0; i < per_batch; ++i) (void)co_await c.publish("durable/t", payload, q, wait::none);
                (void)co_await c.ping();
            }
        };
        co_await burst(60, 50);
        std::size_t before = allocations.load();
        co_await burst(100, 0);
        const std::size_t pings_only = allocations.load() - before;
        before = allocations.load();
        constexpr int batches = 100;
        constexpr int per_batch = 50;
        co_await burst(batches, per_batch);
        const std::size_t with_messages = allocations.load() - before;
        std::cout << "[ allocs   ] QoS " << GetParam() << " with persistence: " << with_messages << " allocations for "
                  << batches * per_batch << " messages of 64 B and " << batches << " pings; " << pings_only
                  << " for the pings alone; journal errors " << c.stats().journal_errors << "\n";
        const std::size_t allowed = (q == qos::exactly_once ? 2 * batches * per_batch : 0) + batches * per_batch / 100;
        EXPECT_LE(with_messages, pings_only + 10 + allowed);
        EXPECT_EQ(c.stats().journal_errors, 0u);
        EXPECT_FALSE(co_await c.disconnect());
    });
}

INSTANTIATE_TEST_SUITE_P(Qos, Allocations, testing::Values(0, 1, 2));

// One at a time with wait::ack (QoS 1, 2) or wait::sent (QoS 0), as a device reporting a
// reading and waiting for it to be safe. The waiter is reused; counted at the malloc level
// each awaited publish costs 1 allocation (2 at QoS 2, whose PUBREL is a second write): the
// socket's send operation, which Asio's first-fit recycling cache misses once a round (the
// pending receive operation takes its block). It was 3 (5) while each write was posted
// through the type-erased executor, which wraps and queues it (engine_io.cpp). Bounded here.
TEST_P(Allocations, AwaitedPublish) {
    SKIP_UNLESS_COUNTING();
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
        EXPECT_LE(used, static_cast<std::size_t>(count) * (q == qos::exactly_once ? 2 : 1) + 10);
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
