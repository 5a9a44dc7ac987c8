// Pieces of the client that need no network: backoff, filter covering, error mapping.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include "backoff.hpp"
#include "refusal_probe.hpp"
#include "filter_cover.hpp"
#include "tether/client/error.hpp"

namespace tether::client::detail {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, CeilingDoublesUpToTheCap) {
    const reconnect_policy p{.initial_delay = 100ms, .max_delay = 1000ms};
    EXPECT_EQ(backoff_ceiling(p, 1), 100ms);
    EXPECT_EQ(backoff_ceiling(p, 2), 200ms);
    EXPECT_EQ(backoff_ceiling(p, 3), 400ms);
    EXPECT_EQ(backoff_ceiling(p, 4), 800ms);
    EXPECT_EQ(backoff_ceiling(p, 5), 1000ms);
    EXPECT_EQ(backoff_ceiling(p, 500), 1000ms);  // no overflow however long it goes on
}

TEST(Backoff, FullJitterSpansZeroToTheCeiling) {
    const reconnect_policy p{.initial_delay = 100ms, .max_delay = 1000ms};
    EXPECT_EQ(backoff_delay(p, 3, 0), 0ms);
    EXPECT_EQ(backoff_delay(p, 3, 400), 400ms);
    EXPECT_EQ(backoff_delay(p, 3, 401), 0ms);
    std::uint64_t x = 12345;
    for (int i = 0; i < 1000; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        const auto d = backoff_delay(p, 4, x);
        EXPECT_GE(d, 0ms);
        EXPECT_LE(d, 800ms);
    }
}

// The engine's own random numbers behind the jitter: from a fixed seed (so the outcome is
// fixed too), 4,000 delays under a 1,000 ms ceiling fall evenly into its four quarters.
TEST(Backoff, JitterRandomSpreadsOverTheWholeRange) {
    const reconnect_policy p{.initial_delay = 1000ms, .max_delay = 1000ms};
    jitter_random random(0x5eed);
    std::array<int, 4> quarters{};
    for (int i = 0; i < 4000; ++i) {
        const auto d = backoff_delay(p, 1, random());
        ASSERT_LE(d, 1000ms);
        ++quarters[static_cast<std::size_t>(std::min<std::int64_t>(d.count() / 250, 3))];
    }
    for (const int n : quarters) {
        EXPECT_GT(n, 850);
        EXPECT_LT(n, 1150);
    }
}

TEST(FilterCover, WhatAServerSubscriptionServes) {
    struct row {
        const char* outer;
        const char* inner;
        bool covers;
    };
    const row rows[] = {
        {"a/#", "a/b", true},       {"a/#", "a", true},          {"a/#", "a/b/+", true},
        {"a/#", "a/+/#", true},     {"#", "x/y", true},          {"a/+", "a/b", true},
        {"a/+", "a/+", true},       {"a/+", "a/b/c", false},     {"a/+", "a/#", false},
        {"a/b", "a/+", false},      {"a/b", "a/b", true},        {"a/b/#", "a", false},
        {"+/b", "x/b", true},       {"#", "$SYS/x", false},      {"+/x", "$SYS/x", false},
        {"$SYS/#", "$SYS/x", true}, {"a/+/c", "a/b/c", true},    {"a/+/c", "a/b/d", false},
        {"ioto/device/abc/#", "ioto/device/abc/store/get/+", true},
    };
    for (const row& r : rows) EXPECT_EQ(filter_covers(r.outer, r.inner), r.covers) << r.outer << " > " << r.inner;
}

TEST(Errors, MessagesAndPermanence) {
    EXPECT_EQ(make_error_code(errc::not_authorized).message(), "connection refused: not authorized");
    EXPECT_TRUE(is_permanent(errc::bad_user_name_or_password));
    EXPECT_TRUE(is_permanent(errc::identifier_rejected));
    EXPECT_FALSE(is_permanent(errc::server_unavailable));  // may come back
    EXPECT_FALSE(is_permanent(errc::connection_lost));
    EXPECT_FALSE(is_permanent(make_error_code(core::error::keep_alive_timeout)));
    EXPECT_EQ(make_error_code(core::error::keep_alive_timeout).category().name(), std::string("tether.core"));
}

}  // namespace
}  // namespace tether::client::detail

#include <map>
#include <random>

#include "flight_table.hpp"

namespace tether::client::detail {
namespace {

TEST(FlightTable, AgreesWithAMapUnderRandomUse) {
    // Ids that collide in the index (same low bits) and runs that wrap around its end,
    // with deletions in every position of a probe run.
    flight_table table(16);
    std::map<std::uint16_t, std::uint8_t> model;
    std::mt19937 rng(42);
    for (int step = 0; step < 200'000; ++step) {
        const auto id = static_cast<std::uint16_t>(1 + (rng() % 8) * 64 + rng() % 3);  // many collisions
        if (model.contains(id)) {
            ASSERT_NE(table.find(id), nullptr);
            EXPECT_EQ(table.find(id)->bytes.at(0), model[id]);
            table.erase(id);
            model.erase(id);
            EXPECT_EQ(table.find(id), nullptr);
        } else if (model.size() < 16) {
            flight& f = table.insert(id);
            EXPECT_TRUE(f.bytes.empty());  // cleared, capacity kept
            f.bytes.push_back(static_cast<std::uint8_t>(step));
            model[id] = static_cast<std::uint8_t>(step);
        }
        ASSERT_EQ(table.size(), model.size());
    }
    std::size_t seen = 0;
    table.for_each([&](std::uint16_t id, flight& f) {
        EXPECT_EQ(f.bytes.at(0), model.at(id));
        ++seen;
    });
    EXPECT_EQ(seen, model.size());
}

TEST(FlightTable, BuffersKeepTheirCapacity) {
    flight_table table(1);
    table.insert(7).bytes.resize(1000);
    table.erase(7);
    const flight& again = table.insert(9);
    EXPECT_TRUE(again.bytes.empty());
    EXPECT_GE(again.bytes.capacity(), 1000u);
}

TEST(FlightTable, AcquireThenBindOrRelease) {
    flight_table table(2);
    const auto a = table.acquire();
    table.release(a);  // unused
    const auto b = table.acquire();
    table.at(b).bytes = {1, 2};
    table.bind(b, 300);
    ASSERT_NE(table.find(300), nullptr);
    EXPECT_EQ(table.find(300)->bytes.size(), 2u);
    EXPECT_EQ(table.size(), 1u);
}


// ---------------------------------------------------------------- refusal_probe

TEST(RefusalProbe, AMessageTheServerClosesTheLinkOverIsFoundAndOnlyIt) {
    detail::refusal_probe p;
    // A flap with nothing in flight, or our own timeout: no probing.
    EXPECT_EQ(p.connection_ended(true, 0, false), 0);
    EXPECT_FALSE(p.probing());
    EXPECT_EQ(p.connection_ended(false, 3, false), 0);
    EXPECT_FALSE(p.probing());
    // The server closed the link with 3 publishes unacknowledged: the next connection
    // sends the oldest (7) alone.
    EXPECT_EQ(p.connection_ended(true, 3, false), 0);
    ASSERT_TRUE(p.probing());
    EXPECT_FALSE(p.hold(7));
    EXPECT_TRUE(p.hold(8));
    EXPECT_TRUE(p.hold(9));
    // Closed again over it, strikes times: 7 is refused; 8 is the next probe.
    for (unsigned i = 1; i < detail::refusal_probe::strikes; ++i) {
        EXPECT_EQ(p.connection_ended(true, 3, true), 0);
        EXPECT_FALSE(p.hold(7));
        EXPECT_TRUE(p.hold(8));
    }
    EXPECT_EQ(p.connection_ended(true, 3, true), 7);
    EXPECT_TRUE(p.probing());
    EXPECT_FALSE(p.hold(8));
    EXPECT_TRUE(p.hold(9));
    // 8 acknowledged: probing ends, everything goes.
    EXPECT_FALSE(p.acknowledged(9));
    EXPECT_TRUE(p.acknowledged(8));
    EXPECT_FALSE(p.probing());
    EXPECT_FALSE(p.hold(9));
}

TEST(RefusalProbe, OurOwnTimeoutsAndAcknowledgedProbesStrikeNothing) {
    detail::refusal_probe p;
    (void)p.connection_ended(true, 1, false);
    EXPECT_FALSE(p.hold(4));
    // Keep-alive or connect timeouts (not the server closing) never count.
    for (int i = 0; i < 10; ++i) EXPECT_EQ(p.connection_ended(false, 1, true), 0);
    // A probe no longer in flight was not refused.
    for (int i = 0; i < 10; ++i) EXPECT_EQ(p.connection_ended(true, 1, false), 0);
    EXPECT_TRUE(p.probing());
}

}  // namespace
}  // namespace tether::client::detail
