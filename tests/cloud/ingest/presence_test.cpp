// The broker's log lines about connections (mosquitto 2.0.11's wording, as seen on this
// machine with `log_dest topic`), and lines that must not be taken for them.
#include <gtest/gtest.h>

#include "ingest/presence.hpp"

namespace tether::cloud::ingest {
namespace {

TEST(IngestPresence, ReadsConnectionsWithTheirUserName) {
    const auto p = parse_presence("1795716513: New client connected from 127.0.0.1:44722 as dev1 (p2, c1, k60, u'dev1').");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->client_id, "dev1");
    EXPECT_TRUE(p->online);
    EXPECT_EQ(p->user_name, "dev1");
    EXPECT_EQ(p->time_s, 1795716513);
    const auto anonymous = parse_presence("New client connected from ::1:5 as claim-0a1b (p2, c1, k60).");
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->client_id, "claim-0a1b");
    EXPECT_EQ(anonymous->user_name, "");
    EXPECT_FALSE(anonymous->time_s) << "a line without log_timestamp";
}

TEST(IngestPresence, ReadsEveryKindOfDisconnection) {
    for (const char* line : {"1: Client dev1 disconnected.", "1: Client dev1 closed its connection.",
                             "1: Socket error on client dev1, disconnecting.",
                             "1: Client dev1 has exceeded timeout, disconnecting.",
                             "1: Client dev1 disconnected, not authorised.",
                             "1: Client dev1 disconnected due to protocol error.",
                             "1: Bad socket read/write on client dev1: Unknown error."}) {
        const auto p = parse_presence(line);
        ASSERT_TRUE(p) << line;
        EXPECT_EQ(p->client_id, "dev1") << line;
        EXPECT_FALSE(p->online) << line;
    }
}

TEST(IngestPresence, IgnoresOtherLines) {
    for (const char* line : {"1: New connection from 127.0.0.1:44722 on port 8883.",
                             "1: Client dev1 already connected, closing old connection.",
                             "1: mosquitto version 2.0.11 running", "", "1: ", "1: Client  disconnected.",
                             "1: New client connected from 127.0.0.1:1 as dev1", "Client dev1"}) {
        EXPECT_FALSE(parse_presence(line)) << line;
    }
    const std::string long_id(200, 'x');
    EXPECT_FALSE(parse_presence("1: Client " + long_id + " disconnected."));
}

TEST(IngestPresence, AClientIdCannotForgeTheUserName) {
    // The flags are the last " (...)." of the line: a client id that imitates them is only
    // part of the client id.
    const auto p = parse_presence("1: New client connected from 127.0.0.1:1 as x (p2, u'dev2') (p2, c1, k60, u'claim').");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->client_id, "x (p2, u'dev2')");
    EXPECT_EQ(p->user_name, "claim");
}

}  // namespace
}  // namespace tether::cloud::ingest
