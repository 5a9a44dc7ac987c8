// Group commit: writes handed to the handler with a `done` wait in one pending batch and
// commit in one transaction; a read sees every write before it; a batch the database
// refuses stores nothing and is told so. Then the same through a real mosquitto: a burst
// commits in far fewer transactions than messages, and writes the database refused are
// not acknowledged, so the broker delivers them again.
//
// A failing database is a trigger that refuses every insert into store_items, dropped to
// make it work again: deterministic on both engines, with no timing involved.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../../support/coro_test.hpp"
#include "ingest_fixture.hpp"
#include "metrics/metric_request.hpp"
#include "metrics/series.hpp"
#include "service_fixture.hpp"

namespace tether::cloud::ingest {
namespace {

using namespace tether::cloud::test::broker_names;

const clock_now at{};

std::string store_set(const std::string& key, int value) {
    return nlohmann::json{{"key", key}, {"value", value}, {"type", "number"}}.dump();
}

void break_store(storage::database& db) {
    db.with_connection([](storage::connection& c) {
        if (c.kind() == storage::engine::sqlite) {
            (void)c.execute(
                "CREATE TRIGGER refuse_store BEFORE INSERT ON store_items BEGIN SELECT RAISE(ABORT, 'database down'); END");
        } else {
            (void)c.execute(
                "CREATE FUNCTION refuse_store() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'database down'; END $$ "
                "LANGUAGE plpgsql");
            (void)c.execute(
                "CREATE TRIGGER refuse_store BEFORE INSERT ON store_items FOR EACH ROW EXECUTE FUNCTION refuse_store()");
        }
    });
}

void repair_store(storage::database& db) {
    db.with_connection([](storage::connection& c) {
        (void)c.execute(c.kind() == storage::engine::sqlite ? "DROP TRIGGER refuse_store"
                                                            : "DROP TRIGGER refuse_store ON store_items");
    });
}

std::optional<nlohmann::json> stored(storage::database& db, const std::string& device, const std::string& key) {
    auto v = db.read_store(device, key, 0);
    if (!v || !v.value()) return std::nullopt;
    return v.value()->value;
}

class GroupCommit : public test::engine_test {};

TEST_P(GroupCommit, ManyWritesCommitInOneTransactionPerBatch) {
    test::handler_fixture f(database_url());
    test::register_device(*f.registry, "dev1");
    f.h->batch_limit(100);
    std::size_t observed = 0;
    f.h->observe_commits([&](const storage::batch& b) { observed += b.store.size(); });
    std::vector<int> told;  // 1 committed, 0 failed, per message in arrival order
    const auto before = f.h->stats().transactions;
    for (int i = 0; i < 250; ++i) {
        auto r = f.h->handle("ioto/service/dev1/store/set", store_set("k" + std::to_string(i), i), at,
                             [&told](bool ok) { told.push_back(ok ? 1 : 0); });
        EXPECT_EQ(r.what, outcome::queued) << r.problem;
    }
    EXPECT_EQ(told.size(), 200u);  // two full batches committed by handle()
    EXPECT_EQ(f.h->pending(), 50u);
    ASSERT_TRUE(f.h->flush());
    EXPECT_EQ(f.h->pending(), 0u);
    EXPECT_EQ(f.h->stats().transactions - before, 3u);
    EXPECT_EQ(told, std::vector<int>(250, 1));
    EXPECT_EQ(f.h->stats().stored, 250u);
    EXPECT_EQ(observed, 250u);
    for (int i = 0; i < 250; ++i) EXPECT_EQ(stored(*f.db, "dev1", "k" + std::to_string(i)), i) << i;
    const auto seen = f.db->find_device("dev1");
    ASSERT_TRUE(seen && seen.value());  // the last-seen row went with the batch
}

TEST_P(GroupCommit, AReadSeesTheWritesQueuedBeforeIt) {
    test::handler_fixture f(database_url());
    test::register_device(*f.registry, "dev1");
    bool committed = false;
    auto r = f.h->handle("ioto/service/dev1/store/set", store_set("cpu", 55), at, [&](bool ok) { committed = ok; });
    ASSERT_EQ(r.what, outcome::queued);
    EXPECT_FALSE(committed);
    r = f.h->handle("ioto/service/dev1/store/get/1", R"({"key":"cpu"})", at, [](bool) {});
    EXPECT_EQ(r.what, outcome::answered);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->payload, "55");
    EXPECT_TRUE(committed);
    // A metric value too.
    r = f.h->handle("ioto/service/dev1/metric/set", R"({"metric":"Temp","value":21.5})", at, [](bool) {});
    ASSERT_EQ(r.what, outcome::queued);
    r = f.h->handle("ioto/service/dev1/metric/get/2", R"({"metric":"Temp","statistic":"avg"})", at);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->payload, "21.5");
}

TEST_P(GroupCommit, ABatchTheDatabaseRefusesStoresNothingAndSaysSo) {
    test::handler_fixture f(database_url());
    test::register_device(*f.registry, "dev1");
    // A metric value in the same batch as the refused Store writes: not stored either.
    std::vector<int> told;
    auto r = f.h->handle("ioto/service/dev1/metric/set", R"({"metric":"Temp","value":3})", at,
                         [&](bool ok) { told.push_back(ok ? 1 : 0); });
    ASSERT_EQ(r.what, outcome::queued);
    break_store(*f.db);
    for (int i = 0; i < 3; ++i) {
        r = f.h->handle("ioto/service/dev1/store/set", store_set("k" + std::to_string(i), i), at,
                        [&](bool ok) { told.push_back(ok ? 1 : 0); });
        ASSERT_EQ(r.what, outcome::queued);
    }
    const auto flushed = f.h->flush();
    EXPECT_FALSE(flushed);
    EXPECT_EQ(told, std::vector<int>(4, 0));
    EXPECT_EQ(f.h->stats().storage_failed, 4u);
    EXPECT_EQ(f.h->stats().stored, 0u);
    EXPECT_FALSE(stored(*f.db, "dev1", "k0"));
    r = f.h->handle("ioto/service/dev1/metric/get/2", R"({"metric":"Temp","statistic":"avg"})", at);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->payload, "null");
    ASSERT_FALSE(f.log.empty());
    EXPECT_NE(f.log.back().find("4 writes not stored"), std::string::npos) << f.log.back();

    repair_store(*f.db);
    told.clear();
    r = f.h->handle("ioto/service/dev1/store/set", store_set("k0", 0), at, [&](bool ok) { told.push_back(ok ? 1 : 0); });
    ASSERT_TRUE(f.h->flush());
    EXPECT_EQ(told, std::vector<int>{1});
    EXPECT_EQ(stored(*f.db, "dev1", "k0"), 0);
}

// The values of one series in one batch are merged into one point upsert per span and
// interval (pending_batch.hpp), and the database ends with exactly what storing each value
// in its own transaction gives: the same points, the same current value.
TEST_P(GroupCommit, ValuesOfOneSeriesInOneBatchCostOneUpsertPerSpanAndGiveTheSameStatistics) {
    test::handler_fixture f(database_url());
    test::register_device(*f.registry, "dev1");
    f.h->batch_limit(1000);
    constexpr int values = 120;
    // 1.5 s apart: several intervals of the finest span, one or two of the others. Values
    // in quarters, so that sums are exact whatever order they are added in.
    const auto start = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'000));
    auto time_of = [&](int i) { return clock_now{start + std::chrono::milliseconds(1'500 * i), {}}; };
    auto body = [](const char* metric, int i) {
        return nlohmann::json{{"metric", metric},
                              {"value", ((i * 37) % 101) / 4.0},
                              {"dimensions", nlohmann::json::array({{{"Device", "dev1"}}, nlohmann::json::object()})}}
            .dump();
    };
    std::set<std::pair<std::size_t, std::int64_t>> intervals;  // of one series
    for (int i = 0; i < values; ++i) {
        const std::int64_t ms = 1'700'000'000'000 + 1'500LL * i;
        for (std::size_t s = 0; s < metrics::span_shapes.size(); ++s) {
            intervals.emplace(s, metrics::floor_div(ms, metrics::span_shapes[s].resolution_ms));
        }
    }
    const std::string points_upsert = "INSERT INTO metric_points";

    // "A": every value queued in one batch.
    f.db->with_connection([&](storage::connection&) { f.statements->reset(); });
    std::vector<int> told;
    for (int i = 0; i < values; ++i) {
        const auto r = f.h->handle("ioto/service/dev1/metric/set", body("A", i), time_of(i),
                                   [&](bool ok) { told.push_back(ok ? 1 : 0); });
        ASSERT_EQ(r.what, outcome::queued) << r.problem;
    }
    ASSERT_TRUE(f.h->flush());
    EXPECT_EQ(told, std::vector<int>(values, 1));
    const std::size_t merged = f.db->with_connection([&](storage::connection&) { return f.statements->executed(points_upsert); });
    EXPECT_EQ(merged, 2 * intervals.size());  // two series: the device's and the fleet's

    // "B": the same values, each committed alone.
    f.db->with_connection([&](storage::connection&) { f.statements->reset(); });
    for (int i = 0; i < values; ++i) {
        const auto r = f.h->handle("ioto/service/dev1/metric/set", body("B", i), time_of(i));
        ASSERT_EQ(r.what, outcome::stored) << r.problem;
    }
    const std::size_t alone = f.db->with_connection([&](storage::connection&) { return f.statements->executed(points_upsert); });
    EXPECT_EQ(alone, 2 * values * metrics::span_shapes.size());

    for (const metrics::dimension_values& dims : {metrics::dimension_values{{"Device", "dev1"}}, metrics::dimension_values{}}) {
        const auto a = f.db->load_series({std::string(metrics::default_namespace), "A", dims});
        const auto b = f.db->load_series({std::string(metrics::default_namespace), "B", dims});
        ASSERT_TRUE(a && a.value() && b && b.value());
        EXPECT_EQ(*a.value(), *b.value());
        EXPECT_EQ(a.value()->current, ((values - 1) * 37 % 101) / 4.0);
        const auto all = a.value()->window(metrics::span_shapes.back().cover_ms(), 1'700'000'000'000 + 1'500LL * values);
        EXPECT_EQ(all.count, static_cast<std::uint64_t>(values));
    }
}

TEST_P(GroupCommit, ABurstThroughTheBrokerCommitsInFarFewerTransactionsThanMessages) {
    test::service_fixture fx(database_url());
    constexpr int writes = 1000;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        test::running r(io, fx);
        CO_ASSERT(co_await r.start());
        const auto before = fx.f.h->stats().transactions;
        const auto start = std::chrono::steady_clock::now();  // a figure printed, not asserted
        for (int i = 0; i < writes; ++i) {
            const std::string body = store_set("k" + std::to_string(i), i);
            CO_ASSERT(!r.device.publish_now("ioto/service/dev1/store/set", body, qos::at_least_once));
        }
        // The set, then the get: the get's answer comes after every write is committed.
        const std::string last = store_set("cpu", 55);
        CO_ASSERT(!r.device.publish_now("ioto/service/dev1/store/set", last, qos::at_least_once));
        const auto got = co_await r.device.request("ioto/service/dev1/store/get", R"({"key":"cpu"})",
                                                   "ioto/device/dev1/store/get", 60s);
        CO_ASSERT(!got.ec);
        EXPECT_EQ(got.payload, "55");
        EXPECT_EQ(fx.f.h->stats().stored, writes + 1u);
        const auto transactions = fx.f.h->stats().transactions - before;
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        std::printf("%d writes in %llu transactions, %.0f writes/s\n", writes + 1,
                    static_cast<unsigned long long>(transactions), (writes + 1) / took.count());
        EXPECT_LE(transactions * 4, static_cast<std::uint64_t>(writes));
        co_await r.stop();
    });
    for (int i = 0; i < writes; ++i) EXPECT_EQ(stored(*fx.f.db, "dev1", "k" + std::to_string(i)), i) << i;
}

// Under load the service commits at most once per commit spacing: the writes of that time
// share a transaction, where each quiet moment between two messages used to commit one.
// Whatever the machine's speed, commits made by the service's own flushes are at least one
// spacing apart, so the bound below cannot fail on a busy machine; without the spacing a
// device streaming writes one round trip apart gets about one transaction each.
TEST_P(GroupCommit, UnderLoadTheServiceCommitsAtMostOncePerCommitSpacing) {
    test::service_fixture fx(database_url());
    constexpr int writes = 200;
    constexpr auto spacing = 100ms;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        test::running r(io, fx);
        r.s.set_commit_spacing(spacing);
        CO_ASSERT(co_await r.start());
        const auto before = fx.f.h->stats().transactions;
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < writes; ++i) {
            const std::string body = store_set("k" + std::to_string(i), i);
            CO_ASSERT(!(co_await r.device.publish("ioto/service/dev1/store/set", body, qos::at_least_once, wait::ack)));
        }
        // The last write commits by the spacing's timer, with no read or stop to flush it.
        const bool committed = co_await tether::test::eventually(
            [&] { return fx.f.h->stats().stored == static_cast<std::uint64_t>(writes); }, 60s);
        EXPECT_TRUE(committed) << fx.f.h->stats().stored << " of " << writes << " committed without a read";
        const auto got = co_await r.device.request("ioto/service/dev1/store/get", R"({"key":"k199"})",
                                                   "ioto/device/dev1/store/get", 60s);
        CO_ASSERT(!got.ec);
        EXPECT_EQ(got.payload, "199");
        const auto elapsed = std::chrono::steady_clock::now() - start;
        const auto transactions = fx.f.h->stats().transactions - before;
        // One spacing-apart commit per spacing, plus: the first write (no commit before it
        // to space from), the read's own last-seen, and dev1's connection line from the
        // broker's log (a transaction of its own, which may arrive inside the window).
        const auto bound = static_cast<std::uint64_t>(elapsed / spacing) + 4;
        std::printf("%d writes in %llu transactions over %.0f ms (bound %llu)\n", writes,
                    static_cast<unsigned long long>(transactions),
                    std::chrono::duration<double, std::milli>(elapsed).count(), static_cast<unsigned long long>(bound));
        EXPECT_LE(transactions, bound);
        co_await r.stop();
    });
    for (int i = 0; i < writes; ++i) EXPECT_EQ(stored(*fx.f.db, "dev1", "k" + std::to_string(i)), i) << i;
}

// A batch holds at most what the broker sends the service before it has their PUBACKs
// (the service acknowledges after the commit). mosquitto's default window is 20 messages;
// the broker `tether-cloud init` configures must let a whole batch_limit through. A
// client of the service's identity holds every acknowledgement and counts what arrives.
TEST(GroupCommitWindow, TheBrokerInitConfiguresSendsABatchLimitOfMessagesBeforeTheirAcks) {
    test::service_fixture fx("");
    constexpr int writes = static_cast<int>(default_batch_limit) + 50;
    std::vector<client::deferred_ack> held;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client::client service(io.get_executor(), fx.service_options());
        CO_ASSERT(!(co_await service.connect()));
        std::vector<client::subscription> subs;
        subs.emplace_back("ioto/service/+/store/set", qos::at_least_once,
                          [&](const client::message& m) { held.push_back(m.defer_ack()); });
        CO_ASSERT(!(co_await service.subscribe(std::move(subs))).ec);
        client::client device(io.get_executor(), fx.device_options("dev1", fx.dev1));
        CO_ASSERT(!(co_await device.connect()));
        for (int i = 0; i < writes; ++i) {
            const std::string body = store_set("k" + std::to_string(i), i);
            CO_ASSERT(!(co_await device.publish("ioto/service/dev1/store/set", body, qos::at_least_once, wait::ack)));
        }
        // Every write is at the broker now; it sends the service as many as its window allows.
        const bool window = co_await tether::test::eventually(
            [&] { return held.size() >= default_batch_limit; }, 60s);
        EXPECT_TRUE(window) << "the broker sent " << held.size() << " messages before their acknowledgements";
        for (auto& a : held) (void)a.accept();
        CO_ASSERT(co_await tether::test::eventually([&] { return held.size() == static_cast<std::size_t>(writes); }, 60s));
        for (auto& a : held) (void)a.accept();
        (void)co_await device.disconnect();
        (void)co_await service.disconnect();
    }, 180s);
}

TEST_P(GroupCommit, WritesTheDatabaseRefusedAreNotAcknowledgedAndArriveAgain) {
    test::service_fixture fx(database_url());
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        auto o = fx.service_options();
        o.clean_session = false;  // the broker keeps what the service did not acknowledge
        o.reconnect.enabled = true;
        o.reconnect.initial_delay = 50ms;
        o.reconnect.max_delay = 200ms;
        test::running r(io, fx, o);
        CO_ASSERT(co_await r.start());
        break_store(*fx.f.db);
        for (int i = 0; i < 5; ++i) {
            const std::string body = store_set("k" + std::to_string(i), i);
            CO_ASSERT(!(co_await r.device.publish("ioto/service/dev1/store/set", body, qos::at_least_once, wait::ack)));
        }
        // Each refused at least once, then delivered again (more failures than messages).
        CO_ASSERT(co_await tether::test::eventually([&] { return fx.f.h->stats().storage_failed > 5; }, 60s));
        EXPECT_FALSE(stored(*fx.f.db, "dev1", "k0"));
        repair_store(*fx.f.db);
        CO_ASSERT(co_await tether::test::eventually(
            [&] {
                for (int i = 0; i < 5; ++i) {
                    if (!stored(*fx.f.db, "dev1", "k" + std::to_string(i))) return false;
                }
                return true;
            },
            60s));
        co_await r.stop();
    });
    for (int i = 0; i < 5; ++i) EXPECT_EQ(stored(*fx.f.db, "dev1", "k" + std::to_string(i)), i) << i;
}

INSTANTIATE_TEST_SUITE_P(engines, GroupCommit, ::testing::Values(storage::engine::sqlite, storage::engine::postgresql),
                         test::engine_name);

}  // namespace
}  // namespace tether::cloud::ingest
