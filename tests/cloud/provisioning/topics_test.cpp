// The provisioning topics of PROTOCOL.md §3 and the names they may carry.

#include <gtest/gtest.h>

#include "provisioning/thing_name.hpp"
#include "provisioning/topics.hpp"

namespace tether::cloud::provisioning {
namespace {

TEST(Topics, ParsesBothRequestsAndBuildsTheirReplyTopics) {
    const auto csr = parse_request_topic("tether/provision/claim-x1/certificates/create-from-csr/json");
    ASSERT_TRUE(csr);
    EXPECT_EQ(csr->kind, request_kind::create_from_csr);
    EXPECT_EQ(csr->client_id, "claim-x1");
    const auto reg = parse_request_topic("tether/provision/claim-x1/provisioning-templates/default/provision/json");
    ASSERT_TRUE(reg);
    EXPECT_EQ(reg->kind, request_kind::register_thing);
    EXPECT_EQ(reg->template_name, "default");
    EXPECT_EQ(request_topic_name(*reg), "tether/provision/claim-x1/provisioning-templates/default/provision/json");
    EXPECT_EQ(accepted_topic("a/b"), "a/b/accepted");
    EXPECT_EQ(rejected_topic("a/b"), "a/b/rejected");
}

TEST(Topics, RefusesEverythingElse) {
    for (const char* t : {"", "tether/provision/", "tether/provision/c/certificates/create-from-csr",
                          "tether/provision//certificates/create-from-csr/json",
                          "tether/provision/a/b/certificates/create-from-csr/json",
                          "tether/provision/+/certificates/create-from-csr/json",
                          "tether/provision/c/provisioning-templates//provision/json",
                          "tether/provision/c/provisioning-templates/a/b/provision/json",
                          "tether/provision/c/provisioning-templates/t/provision/json/accepted",
                          "$aws/certificates/create-from-csr/json", "other/provision/c/certificates/create-from-csr/json"}) {
        EXPECT_FALSE(parse_request_topic(t)) << t;
    }
}

TEST(ThingName, SafeAlphabetAndReservedPrefixes) {
    EXPECT_EQ(thing_name_problem("sensor_01:a-b"), "");
    EXPECT_EQ(thing_name_problem(std::string(64, 'x')), "");
    for (const std::string& bad : std::vector<std::string>{"", std::string(65, 'x'), "a/b", "a+b", "a#", "a b", "a.b", "tether-cloud",
                                  "tether-claim", "pending-abc", "claim-1", std::string("a\0b", 3)}) {
        EXPECT_NE(thing_name_problem(bad), "") << bad;
    }
    EXPECT_TRUE(is_valid_provisioning_client_id("claim-3f.a_b:c"));
    EXPECT_FALSE(is_valid_provisioning_client_id(""));
    EXPECT_FALSE(is_valid_provisioning_client_id("a/b"));
    EXPECT_FALSE(is_valid_provisioning_client_id(std::string(129, 'a')));
}

}  // namespace
}  // namespace tether::cloud::provisioning
