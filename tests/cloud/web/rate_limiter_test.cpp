// Login attempts: a burst per address, then one per refill; all addresses share an overall
// budget; a refused attempt says how long to wait.

#include <gtest/gtest.h>

#include "web/rate_limiter.hpp"

namespace tether::cloud::web {
namespace {

using namespace std::chrono_literals;
using clock = rate_limiter::clock;

TEST(RateLimiter, AnAddressGetsItsBurstThenWaitsForARefill) {
    rate_limiter r({.per_address_burst = 3, .per_address_refill = 10s, .overall_burst = 100, .overall_refill = 1ms});
    const auto t = clock::now();
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(r.take("10.0.0.1", t)) << i;
    const auto wait = r.take("10.0.0.1", t);
    ASSERT_TRUE(wait);
    EXPECT_EQ(*wait, 10s);
    EXPECT_TRUE(r.take("10.0.0.1", t + 9s));
    EXPECT_FALSE(r.take("10.0.0.1", t + 10s));
    EXPECT_TRUE(r.take("10.0.0.1", t + 10s));
}

TEST(RateLimiter, OneAddressDoesNotUseUpAnother) {
    rate_limiter r({.per_address_burst = 2, .per_address_refill = 60s, .overall_burst = 100, .overall_refill = 1ms});
    const auto t = clock::now();
    EXPECT_FALSE(r.take("a", t));
    EXPECT_FALSE(r.take("a", t));
    EXPECT_TRUE(r.take("a", t));
    EXPECT_FALSE(r.take("b", t));
}

TEST(RateLimiter, ManyAddressesShareTheOverallBudget) {
    rate_limiter r({.per_address_burst = 5, .per_address_refill = 1s, .overall_burst = 4, .overall_refill = 2s});
    const auto t = clock::now();
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(r.take("addr" + std::to_string(i), t));
    const auto wait = r.take("fresh", t);
    ASSERT_TRUE(wait);
    EXPECT_EQ(*wait, 2s);
    EXPECT_FALSE(r.take("fresh", t + 2s));
}

TEST(RateLimiter, ARefusedAttemptCostsNothing) {
    rate_limiter r({.per_address_burst = 1, .per_address_refill = 10s, .overall_burst = 100, .overall_refill = 1ms});
    const auto t = clock::now();
    EXPECT_FALSE(r.take("a", t));
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(r.take("a", t + 5s));
    EXPECT_FALSE(r.take("a", t + 10s));
}

TEST(RateLimiter, AFullAddressTableStillLimitsOverall) {
    rate_limiter r({.per_address_burst = 1, .per_address_refill = 3600s, .overall_burst = 1000, .overall_refill = 1ms,
                    .max_addresses = 2});
    const auto t = clock::now();
    EXPECT_FALSE(r.take("a", t));
    EXPECT_FALSE(r.take("b", t));
    EXPECT_TRUE(r.take("a", t));  // still remembered
    EXPECT_FALSE(r.take("c", t)); // no room: counted against the overall budget only
}

}  // namespace
}  // namespace tether::cloud::web
