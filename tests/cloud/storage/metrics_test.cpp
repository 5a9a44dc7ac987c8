// Metric points: merged in the database, never overwritten, also when two connections
// write the same points at once; read back as ranges and as whole series.
#include <latch>
#include <thread>

#include "storage_fixture.hpp"

namespace tether::cloud::storage::test {
namespace {

const metrics::series_key cpu{"Embedthis/Device", "CPU", {{"Device", "d1"}, {"Site", "s1"}}};

std::vector<metrics::slot> points_of(database& db, const metrics::series_key& key, std::size_t span,
                                     std::int64_t from, std::int64_t to) {
    auto p = db.read_points(key, span, from, to);
    if (!p) {
        ADD_FAILURE() << p.err().message;
        return {};
    }
    return p.value();
}

TEST_P(storage_test, PointsOfOneIntervalMerge) {
    auto db = open();
    ASSERT_TRUE(db);
    batch b1, b2;
    b1.points.push_back({cpu, 0, 7, {2, 10, 3, 7}});
    b2.points.push_back({cpu, 0, 7, {1, -4, -4, -4}});
    b2.points.push_back({cpu, 0, 8, {1, 9, 9, 9}});
    ASSERT_TRUE(db->apply(b1));
    ASSERT_TRUE(db->apply(b2));
    const std::vector<metrics::slot> expected{{7, {3, 6, -4, 7}}, {8, {1, 9, 9, 9}}};
    EXPECT_EQ(points_of(*db, cpu, 0, 0, 100), expected);
    EXPECT_EQ(points_of(*db, cpu, 0, 8, 8), std::vector<metrics::slot>({{8, {1, 9, 9, 9}}}));
    EXPECT_TRUE(points_of(*db, cpu, 1, 0, 100).empty());
    // The same name with other dimension values is another series.
    EXPECT_TRUE(points_of(*db, {"Embedthis/Device", "CPU", {{"Device", "d1"}}}, 0, 0, 100).empty());
}

TEST_P(storage_test, TwoConnectionsFeedingOneSeriesLoseNothing) {
    auto db1 = open();
    auto db2 = open();
    ASSERT_TRUE(db1 && db2);
    constexpr int rounds = 100;
    std::latch start(2);
    const auto feed = [&](database& db, double sign) {
        start.arrive_and_wait();
        for (int i = 1; i <= rounds; ++i) {
            batch b;
            // Every value in the same interval of every span: each batch merges into the
            // rows the other connection is merging into.
            b.points = point_updates(cpu, {1, sign * i, sign * i, sign * i}, 1000);
            b.currents.push_back({cpu, sign * i, 1000 + i});
            if (auto r = db.apply(b); !r) ADD_FAILURE() << r.err().message;
        }
    };
    std::thread a(feed, std::ref(*db1), 1.0);
    std::thread b(feed, std::ref(*db2), -1.0);
    a.join();
    b.join();
    for (std::size_t span = 0; span < metrics::span_shapes.size(); ++span) {
        const auto p = points_of(*db1, cpu, span, INT64_MIN, INT64_MAX);
        ASSERT_EQ(p.size(), 1u) << "span " << span;
        EXPECT_EQ(p[0].value, (metrics::point{2 * rounds, 0, -rounds, rounds})) << "span " << span;
    }
    const auto s = db2->load_series(cpu);
    ASSERT_TRUE(s && s.value());
    EXPECT_EQ(s.value()->current_ms, 1000 + rounds);
    EXPECT_EQ(std::abs(s.value()->current), rounds);
}

// What the database holds after many batches is what one in-memory series holds after the
// same values, wherever the values fell relative to the spans' rings.
TEST_P(storage_test, LoadedSeriesEqualsTheSeriesOfTheSameValues) {
    auto db = open();
    ASSERT_TRUE(db);
    metrics::series expected;
    batch b;
    std::int64_t t = 1'700'000'000'000;
    for (int i = 0; i < 400; ++i) {
        // 1 to 4 s apart: every interval of the finest span (5 s) has values, and span 0
        // rolls off many times, span 1 a few. (With gaps, a ring keeps an old point in a
        // slot no newer interval reached, which the database prunes; queries read neither.)
        t += 1'000 + (i % 7) * 500;
        const double v = (i * 37) % 101;
        ASSERT_TRUE(expected.add(v, t));
        const auto u = point_updates(cpu, {1, v, v, v}, t);
        b.points.insert(b.points.end(), u.begin(), u.end());
        b.currents.push_back({cpu, v, t});
        if (i % 50 == 49) {
            ASSERT_TRUE(db->apply(b));
            b = {};
        }
    }
    const auto loaded = db->load_series(cpu);
    ASSERT_TRUE(loaded) << loaded.err().message;
    ASSERT_TRUE(loaded.value());
    EXPECT_EQ(*loaded.value(), expected);
    EXPECT_EQ(loaded.value()->query(metrics::statistic::avg, 3'600'000, t), expected.query(metrics::statistic::avg, 3'600'000, t));

    // Pruning drops what no ring holds, and nothing the series shows.
    const auto pruned = db->prune_points();
    ASSERT_TRUE(pruned) << pruned.err().message;
    EXPECT_GT(pruned.value(), 0u);
    EXPECT_EQ(*db->load_series(cpu).value(), expected);
    EXPECT_EQ(points_of(*db, cpu, 0, INT64_MIN, INT64_MAX).size(), metrics::span_shapes[0].slots());
}

TEST_P(storage_test, UnknownSeriesLoadsAsNone) {
    auto db = open();
    ASSERT_TRUE(db);
    const auto s = db->load_series(cpu);
    ASSERT_TRUE(s) << s.err().message;
    EXPECT_FALSE(s.value());
}

TEST_P(storage_test, BadPointsAreRefusedWithAReason) {
    auto db = open();
    ASSERT_TRUE(db);
    const metrics::series_key unsorted{"ns", "m", {{"b", "1"}, {"a", "2"}}};
    const std::vector<std::pair<point_update, std::string>> cases{
        {{unsorted, 0, 0, {1, 1, 1, 1}}, "dimensions must be sorted"},
        {{{"ns", "m", {{"a", "1"}, {"a", "2"}}}, 0, 0, {1, 1, 1, 1}}, "dimensions must be sorted"},
        {{{"ns", std::string(5000, 'm'), {}}, 0, 0, {1, 1, 1, 1}}, "longer than 4096 bytes"},
        {{cpu, metrics::span_shapes.size(), 0, {1, 1, 1, 1}},
         "span " + std::to_string(metrics::span_shapes.size()) + " out of range"},
        {{cpu, 0, 0, {0, 0, 0, 0}}, "empty"},
        {{cpu, 0, 0, {1, std::nan(""), 1, 1}}, "finite"},
        {{cpu, 0, 0, {2, 3, 2, 1}}, "min above max"},
    };
    for (const auto& [u, why] : cases) {
        batch b;
        b.points.push_back(u);
        const auto r = db->apply(b);
        ASSERT_FALSE(r) << why;
        EXPECT_NE(r.err().message.find(why), std::string::npos) << r.err().message;
    }
    const auto read = db->read_points(unsorted, 0, 0, 1);
    ASSERT_FALSE(read);
    EXPECT_FALSE(db->load_series(unsorted));
}

}  // namespace
}  // namespace tether::cloud::storage::test
