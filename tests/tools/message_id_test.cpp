// `tether sub -F %m` prints the packet id of the PUBLISH that carried the message, as
// mosquitto_sub prints libmosquitto's message id (0 for QoS 0).
//
// What can be asserted: the id is the broker's choice, per client, so two subscribers need
// not see the same ids. What the broker sent is in its log ("Sending PUBLISH to <client>
// (d0, q1, r0, m7, 'topic', ...)"), so each program's output is held against the ids the
// broker sent to that program. The ids are pushed past the first few by messages taken
// earlier, so that a count of the messages this process received (1, 2, 3...) cannot pass
// for the packet id.

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "../support/broker.hpp"
#include "../support/process.hpp"

namespace tether::test {
namespace {

using namespace std::chrono_literals;

const std::string tether = TETHER_BINARY;

std::vector<std::string> with(std::vector<std::string> head, const std::vector<std::string>& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
}

// "<id> <topic>" for each PUBLISH the broker logged sending to `client` on a topic that
// begins with `prefix`, in order.
std::string sent_to(const mosquitto_broker& b, const std::string& client, const std::string& prefix) {
    const std::regex line("Sending PUBLISH to " + client + R"( \(d\d, q\d, r\d, m(\d+), '([^']*)')");
    const std::string log = b.log();
    std::string out;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator(); ++it) {
        if ((*it)[2].str().rfind(prefix, 0) == 0) out += (*it)[1].str() + " " + (*it)[2].str() + "\n";
    }
    return out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> r;
    for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
        r.push_back(text.substr(at, nl - at));
    }
    return r;
}

TEST(MessageId, PercentMIsThePacketIdTheBrokerSent) {
    mosquitto_broker b({.log_packets = true});
    const std::string port = std::to_string(b.port());
    const std::vector<std::string> mosquitto_sub{"/usr/bin/mosquitto_sub", "-p", port};
    const std::vector<std::string> tether_sub{tether, "sub", "-p", port};
    // Persistent sessions at QoS 2 for both; then three messages each takes at once, so that
    // the broker's next ids for them are past 3.
    for (const auto& [head, id] : {std::pair{mosquitto_sub, "theirs"}, std::pair{tether_sub, "ours"}}) {
        ASSERT_EQ(run(with(head, {"-c", "-i", id, "-q", "2", "-t", "id/#", "-E"})).status, 0);
    }
    ASSERT_EQ(run({"/usr/bin/mosquitto_pub", "-p", port, "-t", "id/warm", "-l", "-q", "1"}, "1\n2\n3\n").status, 0);
    for (const auto& [head, id] : {std::pair{mosquitto_sub, "theirs"}, std::pair{tether_sub, "ours"}}) {
        ASSERT_EQ(run(with(head, {"-c", "-i", id, "-q", "2", "-t", "id/#", "-C", "3"})).out, "1\n2\n3\n");
    }
    // Stored for both while they are away, at QoS 1 and 2.
    for (const auto& [topic, q] : {std::pair{"id/m/a", "1"}, std::pair{"id/m/b", "2"}, std::pair{"id/m/c", "1"},
                                   std::pair{"id/m/d", "2"}}) {
        ASSERT_EQ(run({"/usr/bin/mosquitto_pub", "-p", port, "-t", topic, "-m", "x", "-q", q}).status, 0);
    }
    const std::vector<std::string> flags{"-q", "2", "-t", "id/#", "-C", "4", "-W", "20", "-F", "%m %t"};
    const auto theirs = run(with(mosquitto_sub, with({"-c", "-i", "theirs"}, flags)));
    const auto ours = run(with(tether_sub, with({"-c", "-i", "ours"}, flags)));
    ASSERT_EQ(theirs.status, 0) << theirs.err;
    ASSERT_EQ(ours.status, 0) << ours.err;

    // The reference: each id mosquitto_sub prints is one the broker sent it. (Only "one of":
    // mosquitto_sub -C may leave before its last PUBACKs go, so the warm-up messages can
    // come again, under new ids.)
    const std::string sent_theirs = "\n" + sent_to(b, "theirs", "id/");
    EXPECT_EQ(lines_of(theirs.out).size(), 4u) << theirs.out;
    for (const std::string& l : lines_of(theirs.out)) {
        EXPECT_NE(sent_theirs.find("\n" + l + "\n"), std::string::npos) << l << " not in\n" << sent_theirs;
    }
    // Ours: exactly the ids the broker sent, in order, every one past the three taken before
    // (and no warm-up message again: `tether sub -C` acknowledges the last one before it
    // disconnects).
    EXPECT_EQ(ours.out, sent_to(b, "ours", "id/m/")) << b.log();
    const std::regex line(R"((\d+) id/m/[a-d])");
    std::size_t count = 0;
    for (auto it = std::sregex_iterator(ours.out.begin(), ours.out.end(), line); it != std::sregex_iterator(); ++it) {
        EXPECT_GT(std::stoi((*it)[1].str()), 3) << ours.out;
        ++count;
    }
    EXPECT_EQ(count, 4u) << ours.out;
}

// QoS 0 has no packet id: %m prints 0 and %j has no "mid", as mosquitto_sub's output.
TEST(MessageId, Qos0PrintsZeroAndJsonLeavesMidOut) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    ASSERT_EQ(run({"/usr/bin/mosquitto_pub", "-p", port, "-t", "z", "-m", "zero", "-r"}).status, 0);
    const std::vector<std::string> flags{"-p", port, "-t", "z", "-q", "0", "-C", "1", "-W", "10", "-F", "%m|%5m|%-3m|%j"};
    const auto theirs = run(with({"/usr/bin/mosquitto_sub"}, flags));
    const auto ours = run(with({tether, "sub"}, flags));
    const std::regex tst("\"tst\":\"[^\"]*\"");
    EXPECT_EQ(std::regex_replace(ours.out, tst, "T"), std::regex_replace(theirs.out, tst, "T"));
    EXPECT_EQ(std::regex_replace(ours.out, tst, "T"),
              "0|    0|0  |{T,\"topic\":\"z\",\"qos\":0,\"retain\":1,\"payloadlen\":4,\"payload\":\"zero\"}\n");
}

}  // namespace
}  // namespace tether::test
