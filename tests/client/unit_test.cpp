// Pieces of the client that need no network: backoff, filter covering, error mapping.

#include <gtest/gtest.h>

#include "backoff.hpp"
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
