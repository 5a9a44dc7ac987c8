// Several workers on one database (service.hpp: share_group): two handlers on connections
// of their own, feeding one series at once, lose no update; and two services sharing the
// device topics through mosquitto's shared subscription store every write once between
// them.

#include <gtest/gtest.h>

#include <latch>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "../../support/coro_test.hpp"
#include "ingest_fixture.hpp"
#include "metrics/metric_request.hpp"
#include "metrics/series.hpp"
#include "service_fixture.hpp"

namespace tether::cloud::ingest {
namespace {

using namespace tether::cloud::test::broker_names;

class Workers : public test::engine_test {};

// Each handler merges its values into batches and commits them while the other commits
// into the same rows (every value of both in the same second: the same intervals). Points
// are merged by the database, not read and written back, so the stored series is exactly
// the series of every value; an update lost between the two would show in count or sum.
TEST_P(Workers, TwoHandlersFeedingOneSeriesAtOnceLoseNoUpdate) {
    test::handler_fixture a(database_url());
    test::handler_fixture b(a.url);
    test::register_device(*a.registry, "dev1");
    constexpr int rounds = 40, per_batch = 10;
    constexpr std::int64_t base = 1'700'000'000'000;
    std::latch start(2);
    const auto feed = [&](handler& h, int worker) {
        start.arrive_and_wait();
        for (int round = 0; round < rounds; ++round) {
            for (int k = 0; k < per_batch; ++k) {
                const int i = (round * per_batch + k) * 2 + worker;  // each value and time once
                const std::string body = nlohmann::json{{"metric", "Load"}, {"value", i / 4.0}}.dump();
                const clock_now at{std::chrono::system_clock::time_point(std::chrono::milliseconds(base + i)), {}};
                const auto r = h.handle("ioto/service/dev1/metric/set", body, at, [](bool ok) {
                    if (!ok) ADD_FAILURE() << "a batch failed";
                });
                if (r.what != outcome::queued) ADD_FAILURE() << r.problem;
            }
            if (auto r = h.flush(); !r) ADD_FAILURE() << r.err().message;
        }
    };
    std::thread one(feed, std::ref(*a.h), 0);
    std::thread two(feed, std::ref(*b.h), 1);
    one.join();
    two.join();

    metrics::series expected;
    for (int i = 0; i < 2 * rounds * per_batch; ++i) ASSERT_TRUE(expected.add(i / 4.0, base + i));
    const auto stored = a.db->load_series({std::string(metrics::default_namespace), "Load", {{"Device", "dev1"}}});
    ASSERT_TRUE(stored) << stored.err().message;
    ASSERT_TRUE(stored.value());
    EXPECT_EQ(*stored.value(), expected);
    EXPECT_EQ(stored.value()->window(60'000, base + 1'000).count, 2u * rounds * per_batch);
}

TEST_P(Workers, TwoServicesShareTheDeviceTopicsAndStoreEveryWriteOnce) {
    test::service_fixture fx(database_url());
    test::handler_fixture second(fx.f.url);
    constexpr int writes = 200;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        auto o1 = fx.service_options();
        o1.client_id = "tether-cloud-w1";
        auto o2 = fx.service_options();
        o2.client_id = "tether-cloud-w2";
        service w1(io.get_executor(), *fx.f.h, o1, {}, "tether-cloud");
        service w2(io.get_executor(), *second.h, o2, {}, "tether-cloud");
        CO_ASSERT(!(co_await w1.start()));
        CO_ASSERT(!(co_await w2.start()));
        client::client device(io.get_executor(), fx.device_options("dev1", fx.dev1));
        CO_ASSERT(!(co_await device.connect()));
        for (int i = 0; i < writes; ++i) {
            const std::string body = nlohmann::json{{"key", "k" + std::to_string(i)}, {"value", i}, {"type", "number"}}.dump();
            CO_ASSERT(!device.publish_now("ioto/service/dev1/store/set", body, qos::at_least_once));
        }
        const auto& s1 = fx.f.h->stats();
        const auto& s2 = second.h->stats();
        CO_ASSERT(co_await tether::test::eventually([&] { return s1.stored + s2.stored == writes; }, 60s));
        // The broker hands the group's messages round: both workers had some.
        EXPECT_GT(s1.stored, 0u);
        EXPECT_GT(s2.stored, 0u);
        // A read goes to one of them, which answers it.
        const auto got = co_await device.request("ioto/service/dev1/store/get", R"({"key":"k7"})",
                                                 "ioto/device/dev1/store/get", 30s);
        CO_ASSERT(!got.ec);
        EXPECT_EQ(got.payload, "7");
        (void)co_await device.disconnect();
        (void)co_await w1.stop();
        (void)co_await w2.stop();
    }, 180s);
    for (int i = 0; i < writes; ++i) {
        const auto v = fx.f.db->read_store("dev1", "k" + std::to_string(i), 0);
        ASSERT_TRUE(v && v.value()) << i;
        EXPECT_EQ(v.value()->value, i);
    }
    EXPECT_EQ(fx.f.h->stats().stored + second.h->stats().stored, static_cast<std::uint64_t>(writes));
}

INSTANTIATE_TEST_SUITE_P(engines, Workers, ::testing::Values(storage::engine::sqlite, storage::engine::postgresql),
                         test::engine_name);

}  // namespace
}  // namespace tether::cloud::ingest
