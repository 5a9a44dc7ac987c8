// Spans of points on a manual clock: which span answers a period, which points it reads,
// roll-off, every statistic against a brute-force reference over random streams, and the
// merge of what two workers kept (series.hpp).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "metrics/series.hpp"

namespace {

using namespace tether::cloud::metrics;

constexpr std::int64_t s = 1000;
constexpr std::int64_t minute = 60 * s;
constexpr std::int64_t hour = 60 * minute;
constexpr std::int64_t day = 24 * hour;
// A start far from the epoch and not on any point boundary, as real clocks are.
constexpr std::int64_t t0 = 1'700'000'000'000 + 7 * s;

TEST(Series, FloorDivision) {
    EXPECT_EQ(floor_div(59, 30), 1);
    EXPECT_EQ(floor_div(60, 30), 2);
    EXPECT_EQ(floor_div(0, 30), 0);
    EXPECT_EQ(floor_div(-1, 30), -1);
    EXPECT_EQ(floor_div(-30, 30), -1);
    EXPECT_EQ(floor_div(-31, 30), -2);
}

TEST(Series, SpanChoice) {
    EXPECT_EQ(series::span_for(1), 0u);
    EXPECT_EQ(series::span_for(60 * s), 0u);
    EXPECT_EQ(series::span_for(60 * s + 1), 1u);
    EXPECT_EQ(series::span_for(300 * s), 1u);
    EXPECT_EQ(series::span_for(300 * s + 1), 2u);
    EXPECT_EQ(series::span_for(hour), 2u);
    EXPECT_EQ(series::span_for(hour + 1), 3u);
    EXPECT_EQ(series::span_for(day), 3u);
    EXPECT_EQ(series::span_for(7 * day), 4u);
    EXPECT_EQ(series::span_for(7 * day + 1), 5u);
    EXPECT_EQ(series::span_for(365 * day), 5u);
    EXPECT_EQ(series::span_for(3650 * day), 5u);  // past a year: the coarsest span, with what it holds
}

TEST(Series, EmptySeries) {
    const series x;
    EXPECT_TRUE(x.well_formed());
    EXPECT_EQ(x.query(statistic::count, 300 * s, t0), 0.0);
    EXPECT_EQ(x.query(statistic::sum, 300 * s, t0), 0.0);
    EXPECT_EQ(x.query(statistic::avg, 300 * s, t0), std::nullopt);
    EXPECT_EQ(x.query(statistic::min, 300 * s, t0), std::nullopt);
    EXPECT_EQ(x.query(statistic::max, 300 * s, t0), std::nullopt);
    EXPECT_EQ(x.query(statistic::current, 300 * s, t0), std::nullopt);
}

TEST(Series, EveryStatistic) {
    series x;
    ASSERT_TRUE(x.add(10, t0));
    ASSERT_TRUE(x.add(-4, t0 + 40 * s));
    ASSERT_TRUE(x.add(30, t0 + 80 * s));
    const std::int64_t now = t0 + 90 * s;
    EXPECT_EQ(x.query(statistic::count, 300 * s, now), 3.0);
    EXPECT_EQ(x.query(statistic::sum, 300 * s, now), 36.0);
    EXPECT_EQ(x.query(statistic::avg, 300 * s, now), 12.0);
    EXPECT_EQ(x.query(statistic::min, 300 * s, now), -4.0);
    EXPECT_EQ(x.query(statistic::max, 300 * s, now), 30.0);
    EXPECT_EQ(x.query(statistic::current, 300 * s, now), 30.0);
}

TEST(Series, PeriodReadsWholeOverlappingPoints) {
    // Periods up to a minute: 5 s points, at multiples of 5 s from the epoch.
    const std::int64_t base = 1'700'000'010'000 - 1'700'000'010'000 % (30 * s);  // on a boundary
    series x;
    ASSERT_TRUE(x.add(1, base + 1 * s));    // point [base, base+5)
    ASSERT_TRUE(x.add(2, base + 6 * s));    // point [base+5, base+10)
    ASSERT_TRUE(x.add(4, base + 11 * s));   // point [base+10, base+15)
    // now = base+12: a 2 s period [base+10, base+12] touches only the last point.
    EXPECT_EQ(x.query(statistic::sum, 2 * s, base + 12 * s), 4.0);
    // A 3 s period starts at base+9, inside the second point: it is read whole.
    EXPECT_EQ(x.query(statistic::sum, 3 * s, base + 12 * s), 6.0);
    // The value at base+1 is 11 s before now, and an 8 s period still counts it: whole points.
    EXPECT_EQ(x.query(statistic::sum, 8 * s, base + 12 * s), 7.0);
    EXPECT_EQ(x.query(statistic::sum, 7 * s, base + 12 * s), 6.0);
    // [now - period, now] is closed: a point that starts at now - period is read, one
    // that ends there is not.
    EXPECT_EQ(x.query(statistic::sum, 4 * s, base + 9 * s), 2.0);
    EXPECT_EQ(x.query(statistic::sum, 5 * s, base + 9 * s), 3.0);
}

TEST(Series, LongerPeriodsUseCoarserPoints) {
    const std::int64_t base = (t0 / hour) * hour;  // on an hour boundary
    series x;
    ASSERT_TRUE(x.add(5, base + 1 * s));
    ASSERT_TRUE(x.add(7, base + 301 * s));
    const std::int64_t now = base + 360 * s;
    // 60 s: 5 s points from base+300; only the value at base+301.
    EXPECT_EQ(x.query(statistic::count, 60 * s, now), 1.0);
    // 300 s: 30 s points from base+60; the value at base+1 is out.
    EXPECT_EQ(x.query(statistic::count, 300 * s, now), 1.0);
    // 301 s: 5-minute points; [now-301 s, now] reaches into the point [base, base+300).
    EXPECT_EQ(x.query(statistic::count, 301 * s, now), 2.0);
}

TEST(Series, ValuesAfterNowAreNotCounted) {
    series x;
    ASSERT_TRUE(x.add(1, t0));
    ASSERT_TRUE(x.add(100, t0 + 10 * minute));
    EXPECT_EQ(x.query(statistic::max, 300 * s, t0 + 1 * s), 1.0);
}

TEST(Series, RollOff) {
    const std::int64_t base = (t0 / hour) * hour;
    series x;
    ASSERT_TRUE(x.add(1, base));
    // 11 slots of 30 s: the point 11 intervals later takes the same slot.
    ASSERT_TRUE(x.add(2, base + 330 * s));
    const std::int64_t now = base + 330 * s;
    EXPECT_EQ(x.query(statistic::count, 300 * s, now), 1.0);
    EXPECT_EQ(x.query(statistic::count, hour, now), 2.0);  // the 5-minute span still has it
    // A late value for the rolled-off interval: dropped from the 30 s span, kept in coarser ones.
    ASSERT_TRUE(x.add(3, base + 5 * s));
    EXPECT_EQ(x.query(statistic::count, 300 * s, now), 1.0);
    EXPECT_EQ(x.query(statistic::sum, hour, now), 6.0);
    // A year and more later only the latest value is left anywhere.
    ASSERT_TRUE(x.add(9, base + 500 * day));
    for (std::int64_t period : {300 * s, hour, day, 7 * day, 365 * day, 2 * 365 * day}) {
        EXPECT_EQ(x.query(statistic::count, period, base + 500 * day), 1.0) << period;
    }
}

TEST(Series, YearSpanHoldsThirteenMonths) {
    const std::int64_t month = 30 * day;
    const std::int64_t base = (t0 / month) * month;
    series x;
    for (int m = 0; m < 20; ++m) ASSERT_TRUE(x.add(1, base + m * month + day));
    const std::int64_t now = base + 19 * month + 29 * day;
    // 14 slots: the months 6..19.
    EXPECT_EQ(x.query(statistic::count, 365 * day, now), 13.0);  // a year back reaches into month 7
    EXPECT_EQ(x.query(statistic::count, 10 * 365 * day, now), 14.0);
}

TEST(Series, CurrentIsTheLatestByTime) {
    series x;
    ASSERT_TRUE(x.add(1, t0 + 10 * s));
    ASSERT_TRUE(x.add(2, t0));  // older: not current
    EXPECT_EQ(x.query(statistic::current, 300 * s, t0 + 20 * s), 1.0);
    ASSERT_TRUE(x.add(3, t0 + 10 * s));  // same time: the last added
    EXPECT_EQ(x.query(statistic::current, 300 * s, t0 + 20 * s), 3.0);
    // current ignores the period.
    EXPECT_EQ(x.query(statistic::current, 1, t0 + 100 * day), 3.0);
}

TEST(Series, RejectsWhatWouldPoisonSums) {
    series x;
    EXPECT_FALSE(x.add(std::numeric_limits<double>::quiet_NaN(), t0));
    EXPECT_FALSE(x.add(std::numeric_limits<double>::infinity(), t0));
    EXPECT_FALSE(x.add(point{}, 1, t0));
    EXPECT_EQ(x, series{});
    EXPECT_EQ(x.query(statistic::count, 0, t0), std::nullopt);
    EXPECT_EQ(x.query(statistic::count, -5, t0), std::nullopt);
}

TEST(Series, NegativeTimesAndExtremes) {
    series x;
    ASSERT_TRUE(x.add(1, -1));
    ASSERT_TRUE(x.add(2, 0));
    EXPECT_EQ(x.query(statistic::sum, 1, 0), 3.0);  // [-1, 0] touches the points of -1 and 0
    EXPECT_EQ(x.query(statistic::sum, 300 * s, INT64_MAX), 0.0);
    EXPECT_EQ(x.query(statistic::sum, INT64_MAX, INT64_MIN), 0.0);
    EXPECT_TRUE(x.well_formed());
}

// --- brute force ------------------------------------------------------------------------

struct sample {
    double value;
    std::int64_t time_ms;
};

// The statistic by definition: the values whose point (in the span that answers the
// period) overlaps [now - period, now] and is one of the span's slot count latest points
// up to now. Valid when no value is later than now.
std::optional<double> reference(const std::vector<sample>& xs, statistic st, std::int64_t period, std::int64_t now) {
    const span_shape shape = span_shapes[series::span_for(period)];
    const std::int64_t r = shape.resolution_ms;
    const std::int64_t newest = floor_div(now, r);
    std::uint64_t count = 0;
    double sum = 0, lo = 0, hi = 0;
    for (const sample& x : xs) {
        const std::int64_t k = floor_div(x.time_ms, r);
        const std::int64_t start = k * r, end = start + r;  // [start, end)
        const bool overlaps = start <= now && end > now - period;
        const bool held = k > newest - static_cast<std::int64_t>(shape.slots());
        if (!overlaps || !held) continue;
        if (count == 0 || x.value < lo) lo = x.value;
        if (count == 0 || x.value > hi) hi = x.value;
        ++count;
        sum += x.value;
    }
    switch (st) {
    case statistic::count: return static_cast<double>(count);
    case statistic::sum: return sum;
    case statistic::avg: return count ? std::optional<double>(sum / static_cast<double>(count)) : std::nullopt;
    case statistic::min: return count ? std::optional<double>(lo) : std::nullopt;
    case statistic::max: return count ? std::optional<double>(hi) : std::nullopt;
    case statistic::current: break;
    }
    return std::nullopt;
}

std::vector<sample> random_stream(std::mt19937_64& rng, std::size_t n, std::int64_t spread_ms) {
    std::uniform_int_distribution<std::int64_t> when(0, spread_ms);
    std::uniform_int_distribution<int> what(-1000, 1000);
    std::vector<sample> xs;
    for (std::size_t i = 0; i < n; ++i) xs.push_back({static_cast<double>(what(rng)), t0 + when(rng)});
    return xs;
}

TEST(SeriesReference, EveryStatisticOverRandomStreams) {
    std::mt19937_64 rng(20240611);
    const std::int64_t periods[] = {1, 29 * s, 30 * s, 45 * s, 300 * s, 301 * s, 17 * minute, hour, hour + 1,
                                    5 * hour + 7 * s, day, 3 * day + 1, 7 * day, 7 * day + 1, 100 * day, 365 * day, 900 * day};
    const std::int64_t spreads[] = {10 * minute, 3 * hour, 3 * day, 20 * day, 500 * day};
    int checked = 0;
    for (int round = 0; round < 40; ++round) {
        const std::int64_t spread = spreads[round % std::size(spreads)];
        std::vector<sample> xs = random_stream(rng, 1 + rng() % 400, spread);
        // Added in a random order: the result may not depend on it.
        std::shuffle(xs.begin(), xs.end(), rng);
        series x;
        std::int64_t latest = INT64_MIN;
        for (const sample& v : xs) {
            ASSERT_TRUE(x.add(v.value, v.time_ms));
            latest = std::max(latest, v.time_ms);
        }
        for (int q = 0; q < 10; ++q) {
            const std::int64_t now = latest + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(spread / 4 + 1));
            for (const std::int64_t period : periods) {
                for (statistic st : {statistic::avg, statistic::min, statistic::max, statistic::sum, statistic::count}) {
                    // Whole-number values: sums are exact in any order.
                    ASSERT_EQ(x.query(st, period, now), reference(xs, st, period, now))
                        << "round " << round << " period " << period << " now-latest " << now - latest << " statistic "
                        << statistic_name(st);
                    ++checked;
                }
            }
        }
    }
    EXPECT_GT(checked, 30000);
}

TEST(SeriesReference, OrderDoesNotMatter) {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 30; ++round) {
        std::vector<sample> xs = random_stream(rng, 300, 40 * day);
        for (std::size_t i = 0; i < xs.size(); ++i) xs[i].time_ms += static_cast<std::int64_t>(i);  // distinct times
        std::vector<sample> sorted = xs;
        std::sort(sorted.begin(), sorted.end(), [](const sample& a, const sample& b) { return a.time_ms < b.time_ms; });
        series a, b;
        for (const sample& v : xs) ASSERT_TRUE(a.add(v.value, v.time_ms));
        for (const sample& v : sorted) ASSERT_TRUE(b.add(v.value, v.time_ms));
        EXPECT_EQ(a, b);
        EXPECT_TRUE(a.well_formed());
    }
}

// --- merge ------------------------------------------------------------------------------

TEST(SeriesMerge, TwoWorkersEqualOne) {
    std::mt19937_64 rng(99);
    for (int round = 0; round < 30; ++round) {
        std::vector<sample> xs = random_stream(rng, 300, (round % 2 ? 2 * day : 600 * day));
        for (std::size_t i = 0; i < xs.size(); ++i) xs[i].time_ms += static_cast<std::int64_t>(i);
        series all, first, second;
        for (const sample& v : xs) {
            ASSERT_TRUE(all.add(v.value, v.time_ms));
            ASSERT_TRUE((rng() % 2 ? first : second).add(v.value, v.time_ms));
        }
        series ab = first;
        ab.merge(second);
        series ba = second;
        ba.merge(first);
        EXPECT_EQ(ab, all) << round;
        EXPECT_EQ(ba, all) << round;
    }
}

TEST(SeriesMerge, EmptyChangesNothing) {
    series x;
    ASSERT_TRUE(x.add(4, t0));
    const series before = x;
    x.merge(series{});
    EXPECT_EQ(x, before);
    series y;
    y.merge(before);
    EXPECT_EQ(y, before);
}

TEST(SeriesMerge, CurrentTieKeepsOwn) {
    series a, b;
    ASSERT_TRUE(a.add(1, t0));
    ASSERT_TRUE(b.add(2, t0));
    a.merge(b);
    EXPECT_EQ(a.current, 1.0);
    EXPECT_EQ(a.query(statistic::sum, 300 * s, t0), 3.0);
}

TEST(SeriesStorage, WellFormedCatchesBadLoads) {
    series x;
    ASSERT_TRUE(x.add(4, t0));
    EXPECT_TRUE(x.well_formed());

    series fewer = x;
    fewer.spans[2].slots.pop_back();
    EXPECT_FALSE(fewer.well_formed());

    series misplaced = x;
    auto& slots = misplaced.spans[0].slots;
    const auto it = std::find_if(slots.begin(), slots.end(), [](const slot& sl) { return sl.interval != INT64_MIN; });
    ASSERT_NE(it, slots.end());
    it->interval += 1;  // now in the wrong slot for its interval
    EXPECT_FALSE(misplaced.well_formed());

    series inverted = x;
    for (auto& sl : inverted.spans[1].slots) {
        if (sl.interval != INT64_MIN) sl.value.min = sl.value.max + 1;
    }
    EXPECT_FALSE(inverted.well_formed());

    series empty_with_data;
    empty_with_data.spans[0].slots[0].value.add(1);
    EXPECT_FALSE(empty_with_data.well_formed());
}

}  // namespace
