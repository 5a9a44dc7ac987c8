// The notifier: changes reach the streams they concern in order; a full queue drops its
// stream instead of blocking the publisher; close() ends every stream.

#include <gtest/gtest.h>

#include <thread>

#include "web/notifier.hpp"

namespace tether::cloud::web {
namespace {

using namespace std::chrono_literals;

TEST(Notifier, ChangesReachTheirDevicesStreamAndFleetStreamsInOrder) {
    notifier n;
    auto dev1 = n.subscribe("dev1");
    auto all = n.subscribe("");
    ASSERT_TRUE(dev1 && all);
    n.publish({"dev1", "a"});
    n.publish({"dev2", "b"});
    n.publish({"", "fleet"});
    auto got = dev1->wait(0ms);
    ASSERT_EQ(got.state, wait_state::changes);
    ASSERT_EQ(got.changes.size(), 2u);
    EXPECT_EQ(got.changes[0].json, "a");
    EXPECT_EQ(got.changes[1].json, "fleet");
    got = all->wait(0ms);
    ASSERT_EQ(got.changes.size(), 3u);
    EXPECT_EQ(got.changes[1].json, "b");
}

TEST(Notifier, NothingNewIsIdle) {
    notifier n;
    auto s = n.subscribe("");
    EXPECT_EQ(s->wait(1ms).state, wait_state::idle);
}

TEST(Notifier, AWaitingStreamWakesForAChangeFromAnotherThread) {
    notifier n;
    auto s = n.subscribe("");
    std::thread publisher([&] { n.publish({"d", "x"}); });
    // Generous: the wait ends as soon as the change arrives.
    const auto got = s->wait(30s);
    publisher.join();
    ASSERT_EQ(got.state, wait_state::changes);
    EXPECT_EQ(got.changes[0].json, "x");
}

TEST(Notifier, ASlowStreamIsDroppedAndThePublisherNeverBlocks) {
    notifier n({.queue_limit = 4, .max_subscribers = 4});
    auto slow = n.subscribe("");
    auto fast = n.subscribe("");
    for (int i = 0; i < 4; ++i) n.publish({"d", std::to_string(i)});
    EXPECT_EQ(fast->wait(0ms).changes.size(), 4u);
    n.publish({"d", "overflow"});  // slow now holds 4 already
    EXPECT_EQ(slow->wait(0ms).state, wait_state::ended);
    EXPECT_EQ(n.dropped(), 1u);
    EXPECT_EQ(n.subscribers(), 1u);
    const auto got = fast->wait(0ms);
    ASSERT_EQ(got.changes.size(), 1u);
    EXPECT_EQ(got.changes[0].json, "overflow");
}

TEST(Notifier, StreamsAreBoundedAndAReleasedOneFreesItsPlace) {
    notifier n({.queue_limit = 4, .max_subscribers = 2});
    auto a = n.subscribe("");
    auto b = n.subscribe("");
    EXPECT_FALSE(n.subscribe(""));
    a.reset();
    EXPECT_TRUE(n.subscribe(""));
}

TEST(Notifier, CloseEndsEveryStreamAndRefusesNewOnes) {
    notifier n;
    auto s = n.subscribe("dev1");
    std::thread closer([&] { n.close(); });
    EXPECT_EQ(s->wait(30s).state, wait_state::ended);
    closer.join();
    EXPECT_FALSE(n.subscribe(""));
}

}  // namespace
}  // namespace tether::cloud::web
