// Points and their merge: what several workers' points for one interval become (point.hpp).

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "metrics/point.hpp"
#include "metrics/statistic.hpp"

namespace {

using namespace tether::cloud::metrics;

point of(std::initializer_list<double> values) {
    point p;
    for (double v : values) p.add(v);
    return p;
}

TEST(Point, AddKeepsCountSumMinMax) {
    const point p = of({3, -2, 7});
    EXPECT_EQ(p.count, 3u);
    EXPECT_EQ(p.sum, 8);
    EXPECT_EQ(p.min, -2);
    EXPECT_EQ(p.max, 7);
    // The first value sets min and max, whatever the zero-initialised fields held.
    const point q = of({5});
    EXPECT_EQ(q.min, 5);
    EXPECT_EQ(q.max, 5);
}

TEST(Point, MergeAddsCountsAndSumsAndWidens) {
    point a = of({1, 9});
    a.merge(of({-4, 2, 3}));
    EXPECT_EQ(a, of({1, 9, -4, 2, 3}));
}

TEST(Point, MergeWithEmpty) {
    point a = of({5, 6});
    a.merge(point{});
    EXPECT_EQ(a, of({5, 6}));
    point e;
    e.merge(of({-1}));
    EXPECT_EQ(e, of({-1}));  // an empty point's zero min/max must not leak in
}

TEST(Point, MergeInAnyOrderAndGrouping) {
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> v(-100, 100);
    for (int round = 0; round < 200; ++round) {
        std::vector<point> parts(1 + rng() % 6);
        point all;
        for (int i = 0; i < 30; ++i) {
            const double x = v(rng);
            parts[rng() % parts.size()].add(x);
            all.add(x);
        }
        point forward, backward;
        for (const point& p : parts) forward.merge(p);
        for (auto it = parts.rbegin(); it != parts.rend(); ++it) backward.merge(*it);
        EXPECT_EQ(forward, all);
        EXPECT_EQ(backward, all);
    }
}

TEST(Statistic, Names) {
    for (statistic s : {statistic::avg, statistic::min, statistic::max, statistic::sum, statistic::count, statistic::current}) {
        EXPECT_EQ(statistic_from_name(statistic_name(s)), s);
    }
    EXPECT_EQ(statistic_from_name("AVG"), std::nullopt);
    EXPECT_EQ(statistic_from_name("mean"), std::nullopt);
    EXPECT_EQ(statistic_from_name(""), std::nullopt);
}

TEST(Statistic, OfAPoint) {
    const point p = of({2, 4, 9});
    EXPECT_EQ(statistic_of(p, statistic::avg), 5.0);
    EXPECT_EQ(statistic_of(p, statistic::min), 2.0);
    EXPECT_EQ(statistic_of(p, statistic::max), 9.0);
    EXPECT_EQ(statistic_of(p, statistic::sum), 15.0);
    EXPECT_EQ(statistic_of(p, statistic::count), 3.0);
    EXPECT_EQ(statistic_of(p, statistic::current), std::nullopt);
    EXPECT_EQ(statistic_of(point{}, statistic::avg), std::nullopt);
    EXPECT_EQ(statistic_of(point{}, statistic::count), 0.0);
}

}  // namespace
