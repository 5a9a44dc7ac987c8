// The `tether` command, run as a program against a real mosquitto: the flags of
// mosquitto_pub and mosquitto_sub, exit statuses, and one-line errors.

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/broker.hpp"
#include "../support/process.hpp"

namespace tether::test {
namespace {

using namespace std::chrono_literals;

const std::string tether = TETHER_BINARY;

std::vector<std::string> cmd(std::initializer_list<std::string> args) {
    std::vector<std::string> v{tether};
    v.insert(v.end(), args);
    return v;
}

// A subscriber that is subscribed by the time this returns (it has printed the marker
// message that we publish until it arrives).
std::unique_ptr<process> start_sub(const mosquitto_broker& b, std::vector<std::string> extra) {
    std::vector<std::string> argv{tether, "sub", "-p", std::to_string(b.port())};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<process>(argv);
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(TetherCli, PubToSubWithEverySource) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    // A persistent session made first, so that nothing depends on when the subscriber
    // process gets going: the broker keeps every QoS 1/2 message for it.
    ASSERT_EQ(run(cmd({"sub", "-p", port, "-c", "-i", "cli-sub", "-q", "2", "-t", "cli/#", "-E"})).status, 0);
    EXPECT_EQ(run(cmd({"pub", "-p", port, "-t", "cli/m", "-m", "hello world", "-q", "1"})).status, 0);
    EXPECT_EQ(run(cmd({"pub", "-p", port, "-t", "cli/n", "-n", "-q", "1"})).status, 0);
    EXPECT_EQ(run(cmd({"pub", "-p", port, "-t", "cli/l", "-l", "-q", "2"}), "one\ntwo\nthree\n").status, 0);
    EXPECT_EQ(run(cmd({"pub", "-p", port, "-t", "cli/s", "-s", "-q", "1"}), "all of\nstdin").status, 0);
    const auto sub = run(cmd({"sub", "-p", port, "-c", "-i", "cli-sub", "-q", "2", "-t", "cli/#", "-v", "-C", "6"}));
    EXPECT_EQ(sub.status, 0) << sub.err;
    EXPECT_EQ(sub.out, "cli/m hello world\ncli/n \ncli/l one\ncli/l two\ncli/l three\ncli/s all of\nstdin\n");
}

TEST(TetherCli, LiveSubscriberSeesWhatPubSends) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    auto sub = start_sub(b, {"-t", "live", "-C", "1", "-d"});
    // -d says when it is connected; the SUBSCRIBE follows on the same connection, ahead
    // of anything the broker forwards from the publisher.
    for (int i = 0; i < 500 && sub->err().find("connected") == std::string::npos; ++i) std::this_thread::sleep_for(10ms);
    for (int i = 0; i < 100 && sub->out().empty(); ++i) {
        ASSERT_EQ(run(cmd({"pub", "-p", port, "-t", "live", "-m", "ping"})).status, 0);
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(sub->wait(10s), 0);
    EXPECT_EQ(sub->out(), "ping\n");
}

TEST(Examples, PublishInitAndSubscribeChange) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    // publish_init's message, kept for a persistent watcher.
    ASSERT_EQ(run(cmd({"sub", "-p", port, "-c", "-i", "watch", "-q", "1", "-t", "myDevice/init", "-E"})).status, 0);
    EXPECT_EQ(run({PUBLISH_INIT, "127.0.0.1", port}).status, 0);
    const auto init = run(cmd({"sub", "-p", port, "-c", "-i", "watch", "-q", "1", "-t", "myDevice/init", "-C", "1", "-v"}));
    EXPECT_EQ(init.out, "myDevice/init Initialized\n");
    // subscribe_change prints topic and text of what arrives.
    process listener({SUBSCRIBE_CHANGE, "127.0.0.1", port, "1"});
    for (int i = 0; i < 100 && listener.out().empty(); ++i) {
        ASSERT_EQ(run(cmd({"pub", "-p", port, "-t", "myDevice/change", "-m", "colour=blue"})).status, 0);
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(listener.wait(10s), 0);
    EXPECT_EQ(listener.out(), "myDevice/change: colour=blue\n");
}

TEST(TetherCli, PubKeepsQos1MessagesAcrossABrokerRestart) {
    mosquitto_broker b({.persistence = true});
    const std::string port = std::to_string(b.port());
    ASSERT_EQ(run(cmd({"sub", "-p", port, "-c", "-i", "collector", "-q", "1", "-t", "lines", "-E"})).status, 0);
    std::string input;
    constexpr int count = 5000;
    for (int i = 0; i < count; ++i) input += "line-" + std::to_string(i) + "\n";
    process pub(cmd({"pub", "-p", port, "-c", "-i", "pubber", "-q", "1", "-t", "lines", "-l", "-d"}), input);
    for (int i = 0; i < 500 && pub.err().find("connected") == std::string::npos; ++i) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(100ms);  // mid-stream
    b.stop(SIGTERM);
    std::this_thread::sleep_for(300ms);
    b.start();
    EXPECT_EQ(pub.wait(60s), 0) << pub.err();
    EXPECT_NE(pub.err().find("reconnecting"), std::string::npos) << "the restart did not land mid-stream";
    const auto r = run(cmd({"sub", "-p", port, "-c", "-i", "collector", "-q", "1", "-t", "lines", "-W", "2"}), "", 20s);
    std::set<std::string> distinct;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) distinct.insert(line);
    EXPECT_EQ(distinct.size(), static_cast<std::size_t>(count)) << "lost " << count - static_cast<int>(distinct.size());
}

TEST(TetherCli, RetainedAndNoNewline) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    EXPECT_EQ(run(cmd({"pub", "-p", port, "-t", "r/t", "-m", "kept", "-r", "-q", "1"})).status, 0);
    const auto r = run(cmd({"sub", "-p", port, "-t", "r/#", "-C", "1", "-N"}));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "kept");
}

TEST(TetherCli, ExitWhenAcknowledgedAndUnsubscribeWithoutTopic) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    const auto e = run(cmd({"sub", "-p", port, "-t", "a", "-t", "b/+", "-E"}), "", 10s);
    EXPECT_EQ(e.status, 0) << e.err;
    const auto u = run(cmd({"sub", "-p", port, "-U", "a", "-E"}), "", 10s);
    EXPECT_EQ(u.status, 0) << u.err;
}

TEST(TetherCli, TimeoutExitsWith27) {
    mosquitto_broker b;
    const auto r = run(cmd({"sub", "-p", std::to_string(b.port()), "-t", "quiet", "-W", "1"}), "", 10s);
    EXPECT_EQ(r.status, 27);
    EXPECT_EQ(r.err, "Timed out\n");
}

TEST(TetherCli, PersistentSessionCollectsWhileAway) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    ASSERT_EQ(run(cmd({"sub", "-p", port, "-c", "-i", "away", "-q", "1", "-t", "post", "-E"})).status, 0);
    EXPECT_EQ(run(cmd({"pub", "-p", port, "-t", "post", "-m", "1", "-q", "1"})).status, 0);
    EXPECT_EQ(run(cmd({"pub", "-p", port, "-t", "post", "-m", "2", "-q", "2"})).status, 0);
    const auto r = run(cmd({"sub", "-p", port, "-c", "-i", "away", "-q", "1", "-t", "post", "-C", "2"}));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "1\n2\n");
}

TEST(TetherCli, WillOnAKilledSubscriber) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    ASSERT_EQ(run(cmd({"sub", "-p", port, "-c", "-i", "watcher", "-q", "1", "-t", "will/#", "-E"})).status, 0);
    auto doomed = start_sub(b, {"-t", "x", "-d", "--will-topic", "will/doomed", "--will-payload", "bye", "--will-qos", "1"});
    for (int i = 0; i < 500 && doomed->err().find("connected") == std::string::npos; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_NE(doomed->err().find("connected"), std::string::npos);
    doomed->kill(SIGKILL);  // no DISCONNECT: the broker publishes the will
    const auto r = run(cmd({"sub", "-p", port, "-c", "-i", "watcher", "-q", "1", "-t", "will/#", "-C", "1", "-v"}));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "will/doomed bye\n");
}

TEST(TetherCli, CredentialsAcceptedAndRefused) {
    mosquitto_broker b({.anonymous = false, .users = {{"bob", "pw"}}});
    const std::string port = std::to_string(b.port());
    EXPECT_EQ(run(cmd({"pub", "-p", port, "-u", "bob", "-P", "pw", "-t", "t", "-m", "x"})).status, 0);
    const auto r = run(cmd({"pub", "-p", port, "-u", "bob", "-P", "wrong", "-t", "t", "-m", "x"}), "", 5s);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("Error: connection refused"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("wrong"), std::string::npos);  // no secrets in messages
}

TEST(TetherCli, ErrorsAreOneLineAndNonZero) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    struct row {
        std::vector<std::string> argv;
        const char* expected;
    };
    const std::string nobody = std::to_string(free_port());
    const row rows[] = {
        {cmd({"pub", "-t", "a"}), "Error: Both topic and message must be supplied."},
        {cmd({"pub", "-t", "a", "-m", "x", "-n"}), "Error: Only one of -m, -n, -l and -s can be given."},
        {cmd({"sub", "--bogus"}), "Error: Unknown option '--bogus'."},
        {cmd({"sub"}), "Error: You must specify a topic"},
        {cmd({"sub", "-t", "a", "-c"}), "Error: You must provide a client id if you are using the -c option."},
        {cmd({"pub", "-t", "a", "-m", "x", "-q", "3"}), "Error: Invalid QoS given: 3"},
        {cmd({"pub", "-t", "a", "-m", "x", "-p"}), "Error: -p argument given but no value specified."},
        {cmd({"pub", "-t", "a", "-m", "x", "--cafile", "/nonexistent/ca.pem"}), "Error: Cannot read file"},
        {cmd({"pub", "-p", nobody, "-t", "a", "-m", "x"}), "Error: Connection refused"},
        {cmd({"pub", "-p", port, "-t", "a/+", "-m", "x"}), "Error: publish failed: invalid argument"},
        {cmd({"frobnicate"}), "Error: unknown command 'frobnicate'"},
        {cmd({"bench", "pub", "--qos", "3"}), "Error: Invalid value for --qos: 3"},
        {cmd({"bench", "pub", "--clients", "0"}), "Error: Invalid value for --clients: 0"},
        {cmd({"bench", "latency", "--bogus", "1"}), "Error: Unknown option '--bogus'."},
        {cmd({"bench", "latency", "--port", nobody}), "Error: Connection refused"},
        {cmd({"bench", "pub", "--port", nobody, "--clients", "3", "--duration", "1"}),
         "Error: 3 connections failed, the first with connect: Connection refused"},
    };
    for (const row& r : rows) {
        const auto result = run(r.argv, "", 10s);
        EXPECT_NE(result.status, 0) << r.expected;
        EXPECT_EQ(result.err.rfind(r.expected, 0), 0u) << "got: " << result.err;
        // One line of error (a usage hint may follow on the next line).
        EXPECT_LE(lines(result.err), 2u) << result.err;
    }
}

}  // namespace
}  // namespace tether::test
