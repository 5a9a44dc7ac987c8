// Buffers on a manual clock: by count, by elapsed time, both, none, and the timer's flush
// (buffer.hpp).

#include <gtest/gtest.h>

#include <limits>
#include <optional>

#include "metrics/buffer.hpp"

namespace {

using namespace tether::cloud::metrics;

constexpr std::int64_t t0 = 1'700'000'000'000;

TEST(Buffer, ByCount) {
    const buffer_policy policy{3, 0};
    buffer b;
    EXPECT_FALSE(b.add(policy, 1, t0));
    EXPECT_FALSE(b.add(policy, 5, t0 + 1000));
    const auto out = b.add(policy, 3, t0 + 2000);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->value.count, 3u);
    EXPECT_EQ(out->value.sum, 9);
    EXPECT_EQ(out->value.min, 1);
    EXPECT_EQ(out->value.max, 5);
    EXPECT_EQ(out->last, 3);
    EXPECT_EQ(out->time_ms, t0 + 2000);
    EXPECT_TRUE(b.pending.empty());
    // Without a time limit, no timer is needed and none fires.
    EXPECT_FALSE(b.add(policy, 1, t0 + 3000));
    EXPECT_EQ(b.due_ms(policy), std::nullopt);
    EXPECT_FALSE(b.flush_due(policy, t0 + 1'000'000'000));
}

TEST(Buffer, ByElapsedOnTheNextValue) {
    const buffer_policy policy{0, 10'000};
    buffer b;
    EXPECT_FALSE(b.add(policy, 1, t0));
    EXPECT_FALSE(b.add(policy, 2, t0 + 9'999));
    const auto out = b.add(policy, 4, t0 + 10'000);  // the value that reaches the time goes in too
    ASSERT_TRUE(out);
    EXPECT_EQ(out->value.count, 3u);
    EXPECT_EQ(out->value.sum, 7);
    EXPECT_EQ(out->time_ms, t0 + 10'000);
}

TEST(Buffer, ByElapsedOnTheTimer) {
    const buffer_policy policy{0, 10'000};
    buffer b;
    EXPECT_FALSE(b.add(policy, 1, t0));
    EXPECT_FALSE(b.add(policy, 2, t0 + 3'000));
    EXPECT_EQ(b.due_ms(policy), t0 + 10'000);
    EXPECT_FALSE(b.flush_due(policy, t0 + 9'999));
    const auto out = b.flush_due(policy, t0 + 10'000);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->value.count, 2u);
    EXPECT_EQ(out->last, 2);
    EXPECT_EQ(out->time_ms, t0 + 3'000);  // stored at its latest value's time
    EXPECT_FALSE(b.flush_due(policy, t0 + 20'000));
    EXPECT_EQ(b.due_ms(policy), std::nullopt);
}

TEST(Buffer, WhicheverLimitComesFirst) {
    const buffer_policy policy{5, 10'000};
    buffer b;
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(b.add(policy, i, t0 + i));
    EXPECT_TRUE(b.add(policy, 4, t0 + 4));  // the count
    EXPECT_FALSE(b.add(policy, 1, t0 + 100));
    EXPECT_TRUE(b.add(policy, 1, t0 + 10'100));  // the time
}

TEST(Buffer, NoLimitEmitsEveryValue) {
    const buffer_policy policy{};
    buffer b;
    const auto out = b.add(policy, 7, t0);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->value.count, 1u);
    EXPECT_EQ(out->value.sum, 7);
}

TEST(Buffer, CountOfOneIsUnbuffered) {
    const buffer_policy policy{1, 60'000};
    buffer b;
    EXPECT_TRUE(b.add(policy, 7, t0));
    EXPECT_TRUE(b.add(policy, 8, t0 + 1));
}

TEST(Buffer, OutOfOrderValues) {
    const buffer_policy policy{0, 10'000};
    buffer b;
    EXPECT_FALSE(b.add(policy, 1, t0 + 5'000));
    EXPECT_FALSE(b.add(policy, 2, t0));  // older: the buffer now starts at t0, latest stays
    EXPECT_EQ(b.due_ms(policy), t0 + 10'000);
    const auto out = b.flush();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->last, 1);
    EXPECT_EQ(out->time_ms, t0 + 5'000);
}

TEST(Buffer, IgnoresNonFiniteValues) {
    const buffer_policy policy{2, 0};
    buffer b;
    EXPECT_FALSE(b.add(policy, std::numeric_limits<double>::quiet_NaN(), t0));
    EXPECT_FALSE(b.add(policy, std::numeric_limits<double>::infinity(), t0));
    EXPECT_TRUE(b.pending.empty());
    EXPECT_FALSE(b.add(policy, 1, t0));
    EXPECT_TRUE(b.add(policy, 1, t0));
}

TEST(Buffer, FlushEmptiesWhateverThePolicy) {
    const buffer_policy policy{100, 0};
    buffer b;
    EXPECT_FALSE(b.flush());
    EXPECT_FALSE(b.add(policy, 2, t0));
    const auto out = b.flush();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->value.count, 1u);
    EXPECT_FALSE(b.flush());
}

}  // namespace
