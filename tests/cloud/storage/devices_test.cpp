// Devices' last seen from their messages, and every device offline when a broker starts.
#include <gtest/gtest.h>

#include "storage_fixture.hpp"

namespace tether::cloud::storage::test {
namespace {

TEST_P(storage_test, AMessageMovesLastSeenAndLeavesTheOnlineFlag) {
    auto db = open();
    ASSERT_TRUE(db);
    batch b;
    b.devices = {{"d1", true, 100}};
    b.seen = {{"d1", 400}, {"d3", 700}, {"d1", 300}, {"d2", 250}, {"d3", 600}};
    ASSERT_TRUE(db->apply(b));
    auto all = db->devices();
    ASSERT_TRUE(all) << all.err().message;
    // Several sightings of one device in a batch: its earliest and its latest.
    std::vector<device_record> expected{{"d1", 100, 400, true}, {"d2", 250, 250, false}, {"d3", 600, 700, false}};
    EXPECT_EQ(all.value(), expected);

    // A disconnection after the last message sets it offline; one older does not.
    batch gone;
    gone.devices = {{"d1", false, 350}};
    ASSERT_TRUE(db->apply(gone));
    EXPECT_TRUE(db->find_device("d1").value()->online);
    gone.devices = {{"d1", false, 500}};
    ASSERT_TRUE(db->apply(gone));
    EXPECT_FALSE(db->find_device("d1").value()->online);

    batch bad;
    bad.seen = {{"", 1}};
    const auto r = db->apply(bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("device id"), std::string::npos) << r.err().message;
}

TEST_P(storage_test, MarkingAllOfflineKeepsLastSeen) {
    auto db = open();
    ASSERT_TRUE(db);
    batch b;
    b.devices = {{"d1", true, 100}, {"d2", true, 200}, {"d3", false, 300}};
    ASSERT_TRUE(db->apply(b));
    const auto n = db->mark_all_offline();
    ASSERT_TRUE(n) << n.err().message;
    EXPECT_EQ(n.value(), 2u);
    const std::vector<device_record> expected{{"d1", 100, 100, false}, {"d2", 200, 200, false}, {"d3", 300, 300, false}};
    EXPECT_EQ(db->devices().value(), expected);
    // The next connection sets it online again.
    batch back;
    back.devices = {{"d1", true, 600}};
    ASSERT_TRUE(db->apply(back));
    EXPECT_TRUE(db->find_device("d1").value()->online);
}

}  // namespace
}  // namespace tether::cloud::storage::test
