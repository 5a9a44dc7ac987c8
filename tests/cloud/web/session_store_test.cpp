// Sessions: unguessable ids, idle and absolute expiry, logout, a bounded table.

#include <gtest/gtest.h>

#include <set>

#include "web/session_store.hpp"

namespace tether::cloud::web {
namespace {

using namespace std::chrono_literals;
using clock = session_store::clock;

TEST(SessionStore, AnIdIs256RandomBitsAsHexAndNeverRepeats) {
    session_store s;
    const auto t = clock::now();
    std::set<std::string> ids;
    for (int i = 0; i < 200; ++i) {
        const auto id = s.create("admin", t);
        EXPECT_EQ(id.size(), 64u);
        EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), 200u);
}

TEST(SessionStore, ALiveSessionNamesItsUserAndUnknownIdsNoOne) {
    session_store s;
    const auto t = clock::now();
    const auto id = s.create("admin", t);
    EXPECT_EQ(s.check(id, t + 1s), "admin");
    EXPECT_FALSE(s.check(std::string(64, 'a'), t));
    EXPECT_FALSE(s.check("short", t));
    EXPECT_FALSE(s.check("", t));
}

TEST(SessionStore, IdleTimeEndsASessionAndUseRestartsIt) {
    session_store s({.idle = 60s, .lifetime = 3600s});
    const auto t = clock::now();
    const auto id = s.create("admin", t);
    EXPECT_TRUE(s.check(id, t + 50s));
    EXPECT_TRUE(s.check(id, t + 100s));  // 50 s after the last use
    EXPECT_FALSE(s.check(id, t + 160s));
    EXPECT_FALSE(s.check(id, t + 161s));  // gone for good
}

TEST(SessionStore, TheLifetimeEndsASessionHoweverOftenItIsUsed) {
    session_store s({.idle = 60s, .lifetime = 300s});
    const auto t = clock::now();
    const auto id = s.create("admin", t);
    for (int i = 1; i < 10; ++i) EXPECT_TRUE(s.check(id, t + i * 30s));
    EXPECT_FALSE(s.check(id, t + 300s));
}

TEST(SessionStore, LogoutEndsTheSession) {
    session_store s;
    const auto t = clock::now();
    const auto id = s.create("admin", t);
    const auto other = s.create("admin", t);
    s.end(id);
    EXPECT_FALSE(s.check(id, t));
    EXPECT_TRUE(s.check(other, t));
}

TEST(SessionStore, TheOldestSessionMakesRoomWhenTheTableIsFull) {
    session_store s({.idle = 3600s, .lifetime = 3600s, .max_sessions = 3});
    const auto t = clock::now();
    const auto first = s.create("admin", t);
    const auto second = s.create("admin", t + 1s);
    (void)s.create("admin", t + 2s);
    const auto fourth = s.create("admin", t + 3s);
    EXPECT_EQ(s.size(), 3u);
    EXPECT_FALSE(s.check(first, t + 4s));
    EXPECT_TRUE(s.check(second, t + 4s));
    EXPECT_TRUE(s.check(fourth, t + 4s));
}

}  // namespace
}  // namespace tether::cloud::web
