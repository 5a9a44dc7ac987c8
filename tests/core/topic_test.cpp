// Topic names, filters and matching: every example of section 4.7 of MQTT 3.1.1, and
// the edges around them.

#include <gtest/gtest.h>

#include <string>

#include "tether/core/topic.hpp"

namespace tether::core {
namespace {

struct match_row {
    const char* filter;
    const char* name;
    bool matches;
};

// Section 4.7.1.2, 4.7.1.3, 4.7.2 and 4.7.3, in the order the specification gives them.
const match_row spec_examples[] = {
    // 4.7.1.2 multi-level wildcard
    {"sport/tennis/player1/#", "sport/tennis/player1", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
    {"sport/#", "sport", true},  // '#' includes the parent level
    {"#", "sport/tennis/player1", true},
    {"sport/tennis/#", "sport/tennis/player1/ranking", true},
    // 4.7.1.3 single-level wildcard
    {"sport/tennis/+", "sport/tennis/player1", true},
    {"sport/tennis/+", "sport/tennis/player2", true},
    {"sport/tennis/+", "sport/tennis/player1/ranking", false},
    {"sport/+", "sport", false},
    {"sport/+", "sport/", true},
    {"+/+", "/finance", true},
    {"/+", "/finance", true},
    {"+", "/finance", false},
    {"+/tennis/#", "sport/tennis/player1", true},
    {"sport/+/player1", "sport/tennis/player1", true},
    // 4.7.2 topics beginning with $ [MQTT-4.7.2-1]
    {"#", "$SYS/monitor/Clients", false},
    {"+/monitor/Clients", "$SYS/monitor/Clients", false},
    {"$SYS/#", "$SYS/monitor/Clients", true},
    {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
    // 4.7.3 topic semantics: case-sensitive, spaces allowed, a leading '/' is a level
    {"ACCOUNTS", "Accounts", false},
    {"Accounts", "Accounts", true},
    {"Accounts payable", "Accounts payable", true},
    {"/finance", "finance", false},
    {"finance", "/finance", false},
    {"/finance", "/finance", true},
};

TEST(TopicMatch, EverySpecificationExample) {
    for (const match_row& r : spec_examples) {
        EXPECT_EQ(topic_matches(r.filter, r.name), r.matches) << r.filter << " ~ " << r.name;
    }
}

TEST(TopicMatch, Edges) {
    const match_row rows[] = {
        {"a/b", "a/b", true},
        {"a/b", "a/b/c", false},
        {"a/b/c", "a/b", false},
        {"a/+/c", "a//c", true},   // '+' matches an empty level
        {"a/+", "a//c", false},
        {"+/+", "a", false},
        {"+", "a", true},
        {"a/#", "a/", true},
        {"a/#", "ab", false},
        {"a/b/#", "a", false},
        {"+/#", "a", true},        // "+/#" matches a single level too
        {"#", "/", true},
        {"a/", "a/", true},
        {"a/", "a", false},
        {"$SYS", "$SYS", true},
        {"$+", "$SYS", false},     // '+' fills a level only when alone; "$+" is not a wildcard level
        {"+/b", "$a/b", false},
        {"a/$b", "a/$b", true},
        {"a/+", "a/$b", true},     // '$' matters only at the first level
    };
    for (const match_row& r : rows) {
        EXPECT_EQ(topic_matches(r.filter, r.name), r.matches) << r.filter << " ~ " << r.name;
    }
}

TEST(TopicFilter, ValidAndInvalidFromTheSpecification) {
    for (const char* ok : {"sport/tennis/player1/#", "sport/tennis/#", "#", "+", "+/tennis/#", "sport/+/player1",
                           "/+", "+/+", "$SYS/#", "/", "a//b", "sport/+"}) {
        EXPECT_EQ(validate_topic_filter(ok), error::none) << ok;
    }
    for (const char* bad : {"sport/tennis#", "sport/tennis/#/ranking", "sport+", "#/a", "a/#/", "a/b+",
                            "+a", "a/++", "##", ""}) {
        EXPECT_EQ(validate_topic_filter(bad), error::invalid_topic_filter) << bad;  // [MQTT-4.7.1-2, 4.7.1-3]
    }
    EXPECT_EQ(validate_topic_filter(std::string_view("a\0b", 3)), error::invalid_topic_filter);
    EXPECT_EQ(validate_topic_filter("\xFF"), error::invalid_topic_filter);
    EXPECT_EQ(validate_topic_filter(std::string(65'535, 'a')), error::none);
    EXPECT_EQ(validate_topic_filter(std::string(65'536, 'a')), error::invalid_topic_filter);
}

TEST(TopicName, ValidAndInvalid) {
    for (const char* ok : {"sport/tennis/player1", "/finance", "finance/", "/", "Accounts payable", "$SYS/x",
                           "a//b", "\xC3\xA9t\xC3\xA9"}) {
        EXPECT_EQ(validate_topic_name(ok), error::none) << ok;
    }
    EXPECT_EQ(validate_topic_name(""), error::invalid_topic_name);        // [MQTT-4.7.3-1]
    EXPECT_EQ(validate_topic_name("a/+"), error::invalid_topic_name);     // [MQTT-3.3.2-2]
    EXPECT_EQ(validate_topic_name("a/#"), error::invalid_topic_name);
    EXPECT_EQ(validate_topic_name("a+b"), error::invalid_topic_name);     // no wildcard anywhere in a name
    EXPECT_EQ(validate_topic_name(std::string_view("a\0", 2)), error::invalid_topic_name);  // [MQTT-4.7.3-2]
    EXPECT_EQ(validate_topic_name("\xE2\x82"), error::invalid_topic_name);                  // truncated UTF-8
    EXPECT_EQ(validate_topic_name(std::string(65'535, 'a')), error::none);                   // [MQTT-4.7.3-3]
    EXPECT_EQ(validate_topic_name(std::string(65'536, 'a')), error::invalid_topic_name);
}

}  // namespace
}  // namespace tether::core
