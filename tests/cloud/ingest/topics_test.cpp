// The device → cloud topics (PROTOCOL.md §1) and the reply topics (§2).
#include <gtest/gtest.h>

#include "ingest/topics.hpp"

namespace tether::cloud::ingest {
namespace {

TEST(IngestTopics, ReadsTheFourForms) {
    auto t = parse_service_topic("ioto/service/dev1/store/set");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->kind, service_kind::store_set);
    EXPECT_EQ(t->device_id, "dev1");
    t = parse_service_topic("ioto/service/dev1/metric/set");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->kind, service_kind::metric_set);
    t = parse_service_topic("ioto/service/d-2/store/get/17");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->kind, service_kind::store_get);
    EXPECT_EQ(t->seq, "17");
    EXPECT_EQ(reply_topic(*t), "ioto/device/d-2/store/get/17");
    t = parse_service_topic("ioto/service/d-2/metric/get/3");
    ASSERT_TRUE(t);
    EXPECT_EQ(reply_topic(*t), "ioto/device/d-2/metric/get/3");
}

TEST(IngestTopics, RefusesEverythingElse) {
    for (const char* bad : {"ioto/service/dev1/store/set/x", "ioto/service//store/set", "ioto/service/dev1/store/get/",
                            "ioto/service/dev1/store/get/1a", "ioto/service/dev1/store/get/-1",
                            "ioto/service/dev1/store/get/123456789012345678901", "ioto/service/dev1",
                            "ioto/device/dev1/store/set", "ioto/service/dev1/metric/get/1/2", "xioto/service/d/store/set"}) {
        EXPECT_FALSE(parse_service_topic(bad)) << bad;
    }
    EXPECT_FALSE(parse_service_topic("ioto/service/" + std::string(129, 'a') + "/store/set"));
    EXPECT_TRUE(parse_service_topic("ioto/service/" + std::string(128, 'a') + "/store/set"));
}

}  // namespace
}  // namespace tether::cloud::ingest
