// `tether sub` and `tether pub` against mosquitto_sub and mosquitto_pub 2.0 themselves: the
// same flags on the same private broker, and the same bytes out, the same exit statuses.
// Only what prints a time (%I %U @..., the "tst" of %j/%J, normalised here) is left out.
// Message ids (%m, "mid") are compared too: each program is a fresh subscriber of the same
// retained messages, and mosquitto numbers the PUBLISHes it sends a client from 1.

#include <gtest/gtest.h>

#include <fstream>
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

run_result mosquitto_sub(const mosquitto_broker& b, const std::vector<std::string>& args) {
    return run(with({"/usr/bin/mosquitto_sub", "-p", std::to_string(b.port())}, args), "", 20s);
}
run_result tether_sub(const mosquitto_broker& b, const std::vector<std::string>& args) {
    return run(with({tether, "sub", "-p", std::to_string(b.port())}, args), "", 20s);
}

// The time.
std::string normalised(const std::string& out) {
    static const std::regex tst("\"tst\":(\t?)\"[^\"]*\"");
    return std::regex_replace(out, tst, "\"tst\":$1\"T\"");
}

void publish(const mosquitto_broker& b, const std::vector<std::string>& args, const std::string& stdin_text = {}) {
    const auto r = run(with({"/usr/bin/mosquitto_pub", "-p", std::to_string(b.port())}, args), stdin_text);
    ASSERT_EQ(r.status, 0) << r.err;
}

// Retained messages make the output independent of timing: they arrive on subscribing,
// in topic order, and -C ends both programs after the same messages. (An empty message
// cannot be retained: EmptyPayload below has its own.)
class SubOutput : public ::testing::Test {
protected:
    void SetUp() override {
        std::ofstream(b.dir() / "binary.dat", std::ios::binary) << std::string("bin\0\x01\xff\"\\\n\tz", 11);
        std::ofstream(b.dir() / "nul_json.dat", std::ios::binary) << std::string("[1,2]\0", 6);
        publish(b, {"-t", "m/1", "-m", "hello", "-r", "-q", "1"});
        publish(b, {"-t", "m/3", "-f", (b.dir() / "binary.dat").string(), "-r", "-q", "2"});
        publish(b, {"-t", "m/4", "-m", R"( {"a" : 1e10, "b":[ ],"c":{},"d":-0.0,"e":0.1,"f":"\u00e9\t\/", "g":01, "h":[{"x":null}, {}], "i":true, "j":1.5e300} )", "-r"});
        publish(b, {"-t", "m/5", "-f", (b.dir() / "nul_json.dat").string(), "-r"});
        publish(b, {"-t", "m/6/deeper", "-m", "six", "-r", "-q", "1"});
    }

    // Runs both with the same flags (after -t 'm/#' -C 5) and compares what they print.
    void same(const std::vector<std::string>& flags) {
        const auto args = with({"-t", "m/#", "-C", "5", "-W", "10", "-q", "1"}, flags);
        const auto theirs = mosquitto_sub(b, args);
        const auto ours = tether_sub(b, args);
        std::string shown;
        for (const auto& f : flags) shown += f + " ";
        EXPECT_EQ(ours.status, theirs.status) << shown << ours.err;
        EXPECT_EQ(normalised(ours.out), normalised(theirs.out)) << shown;
        EXPECT_EQ(ours.err, theirs.err) << shown;
    }

    mosquitto_broker b;
};

TEST_F(SubOutput, PayloadAloneVerboseAndNoNewline) {
    same({});
    same({"-v"});
    same({"-N"});
    same({"-v", "-N"});
}

TEST_F(SubOutput, EveryFormatSpecifierThatPrintsNoTimeOrId) {
    for (const char* format : {"%t|%p|%q|%r|%l", "%x %X", "%%|%A|%C|%D|%E|%F|%P|%R|%S|", "%%%t%%", "plain text",
                               "%m|%5m|%-5m|%05m|%.2m %t"}) {
        same({"-F", format});
    }
}

TEST_F(SubOutput, WidthPrecisionAndFlagForms) {
    for (const char* format : {"%10t|%-10t|%.1t|%5.2t|%-5.1t|%03t", "%10p|%-10p|%.2p|%05p|%-p|%3p", "%12x|%-12X|%3x|%-x",
                               "%010l|%-5l|%5l|%-05l", "%05q|%3q|%-3r", "%-C|%5C|%05A|%-5A|%-5R|%5E|%05F|%4S"}) {
        same({"-F", format});
    }
}

TEST_F(SubOutput, EscapesAndLiteralAt) {
    same({"-F", R"(%%\\\a\e\r\t\v\0\n@@)"});
    same({"-F", R"(%t\0%p)", "-N"});
}

TEST_F(SubOutput, JsonCompactAndPretty) {
    same({"-F", "%j"});
    same({"-F", "%J"});  // also the stderr line for payloads that are not JSON
    same({"-F", "%j", "--pretty"});
    same({"-F", "%J", "--pretty"});
    same({"-F", "%t %J %l"});
}

TEST_F(SubOutput, FilterOutAndRetainedFlags) {
    same({"-T", "m/3", "-T", "m/6/#", "-C", "3"});  // -T: neither printed nor counted
    // Not --random-filter: mosquitto_sub 2.0.11 takes its percentage as per mille (100
    // prints about one message in ten); tether does what its manual says.
}

TEST(SubCompat, BadFormatsAreRefusedWithTheSameLine) {
    mosquitto_broker b;
    for (const char* format : {"%z", "%", "%-", "%5", "%.", "@", "\\", "x\\q", "%10.3"}) {
        const auto theirs = mosquitto_sub(b, {"-t", "a", "-F", format});
        const auto ours = tether_sub(b, {"-t", "a", "-F", format});
        EXPECT_EQ(ours.status, theirs.status) << format;
        EXPECT_EQ(ours.err.substr(0, ours.err.find('\n')), theirs.err.substr(0, theirs.err.find('\n'))) << format;
    }
}

TEST(SubCompat, RetainedOnlySkipRetainedAndTimeoutStatus) {
    mosquitto_broker b;
    publish(b, {"-t", "r/1", "-m", "old", "-r"});
    publish(b, {"-t", "r/2", "-m", "older", "-r"});
    for (const auto& flags : std::vector<std::vector<std::string>>{
             {"-t", "r/#", "-v", "--retained-only", "-W", "1"},  // prints both, then 27
             {"-t", "r/#", "-v", "-R", "-W", "1"},               // prints nothing, then 27
             {"-t", "r/#", "-R", "--retained-only"},             // refused: status 1
             {"-t", "r/#", "-V", "mqttv311", "-C", "2"},         // 0
         }) {
        const auto theirs = mosquitto_sub(b, flags);
        const auto ours = tether_sub(b, flags);
        EXPECT_EQ(ours.status, theirs.status) << flags[3];
        EXPECT_EQ(ours.out, theirs.out) << flags[3];
    }
}

TEST(SubCompat, RemoveRetainedClearsWhatItPrints) {
    mosquitto_broker b;
    for (const std::string tree : {"theirs", "ours"}) {
        publish(b, {"-t", tree + "/a", "-m", "1", "-r"});
        publish(b, {"-t", tree + "/b", "-m", "2", "-r"});
        publish(b, {"-t", tree + "/keep", "-m", "3", "-r"});
    }
    const auto flags = [](const std::string& tree) {
        return std::vector<std::string>{"-t", tree + "/#", "-T", tree + "/keep", "--remove-retained", "-v", "-C", "2"};
    };
    // mosquitto_sub 2.0.11 never exits after -C when --remove-retained published (it waits
    // for a PUBACK callback it never installed), so it gets -W instead.
    auto their_flags = flags("theirs");
    their_flags.back() = "99";
    their_flags.insert(their_flags.end(), {"-W", "2"});
    const auto theirs = mosquitto_sub(b, their_flags);
    const auto ours = tether_sub(b, flags("ours"));
    // (It then also prints the clearing messages it sent itself, as "(null)".)
    EXPECT_EQ(theirs.out.rfind("theirs/a 1\ntheirs/b 2\n", 0), 0u) << theirs.out;
    EXPECT_EQ(ours.status, 0) << ours.err;
    EXPECT_EQ(ours.out, "ours/a 1\nours/b 2\n");
    // What is left retained: only the topic -T kept, for both.
    const auto left_theirs = mosquitto_sub(b, {"-t", "theirs/#", "-v", "-W", "1"});
    const auto left_ours = mosquitto_sub(b, {"-t", "ours/#", "-v", "-W", "1"});
    EXPECT_EQ(left_theirs.out, "theirs/keep 3\n");
    EXPECT_EQ(left_ours.out, "ours/keep 3\n");
}

// An empty payload: nothing at all without -v, "topic (null)" with it, nothing with -v -N.
// Each program reads its own persistent session, filled by the same publishes.
TEST(SubCompat, EmptyPayload) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    const std::vector<std::vector<std::string>> flag_sets{{}, {"-v"}, {"-N"}, {"-v", "-N"}, {"-F", "%t|%p|%l|%x"}};
    for (std::size_t i = 0; i < flag_sets.size(); ++i) {
        for (const std::string who : {"theirs", "ours"}) {
            ASSERT_EQ(run({"/usr/bin/mosquitto_sub", "-p", port, "-c", "-i", who + std::to_string(i), "-q", "1", "-t", "e/#", "-E"}).status, 0);
        }
    }
    publish(b, {"-t", "e/1", "-n", "-q", "1"});
    publish(b, {"-t", "e/2", "-m", "z", "-q", "1"});
    publish(b, {"-t", "e/3", "-n", "-q", "1"});
    for (std::size_t i = 0; i < flag_sets.size(); ++i) {
        const auto args = [&](const std::string& who) {
            return with({"-c", "-i", who + std::to_string(i), "-q", "1", "-t", "e/#", "-C", "3", "-W", "10"}, flag_sets[i]);
        };
        const auto theirs = mosquitto_sub(b, args("theirs"));
        const auto ours = tether_sub(b, args("ours"));
        EXPECT_EQ(ours.status, theirs.status) << i;
        EXPECT_EQ(ours.out, theirs.out) << i;
    }
}

// mosquitto sends a retained message once per matching filter of a SUBSCRIBE, and a live
// one once; mosquitto_sub prints what arrives.
TEST(SubCompat, OverlappingFilters) {
    mosquitto_broker b;
    publish(b, {"-t", "o/b", "-m", "x", "-r"});
    const std::vector<std::string> flags{"-t", "o/#", "-t", "o/b", "-v", "-W", "1"};
    const auto theirs = mosquitto_sub(b, flags);
    const auto ours = tether_sub(b, flags);
    EXPECT_EQ(ours.out, theirs.out);
}

TEST(SubCompat, ExitStatusesOfFailures) {
    mosquitto_broker b({.anonymous = false, .users = {{"bob", "pw"}}});
    const std::string nobody = std::to_string(free_port());
    for (const auto& flags : std::vector<std::vector<std::string>>{
             {"-t", "a", "-u", "bob", "-P", "wrong"},  // CONNACK refusal: its return code
             {"-t", "a"},                              // no credentials at all
             {"-t", "a", "--bogus"},                   // a bad flag: 1
             {"-t", "a/#/b"},                          // a bad filter: 1
             {"-t", "a", "-C", "0"},                   // 1
         }) {
        const auto theirs = mosquitto_sub(b, flags);
        const auto ours = tether_sub(b, flags);
        EXPECT_EQ(ours.status, theirs.status) << flags.back() << ": " << ours.err;
        EXPECT_EQ(ours.err.substr(0, ours.err.find('\n')), theirs.err.substr(0, theirs.err.find('\n')));
    }
    const auto theirs = run({"/usr/bin/mosquitto_sub", "-p", nobody, "-t", "a"});
    const auto ours = run({tether, "sub", "-p", nobody, "-t", "a"});
    EXPECT_EQ(ours.status, theirs.status);
    EXPECT_EQ(ours.err, theirs.err);  // "Error: Connection refused"
}

// --quiet: the same failures, the same statuses, and no error message from either, where
// without it both print one.
TEST(SubCompat, QuietSilencesErrorsButNotTheStatus) {
    mosquitto_broker b({.anonymous = false, .users = {{"bob", "pw"}}});
    const std::string port = std::to_string(b.port());
    const std::string nobody = std::to_string(free_port());
    for (const auto& flags : std::vector<std::vector<std::string>>{
             {"sub", "-p", nobody, "-t", "a"},                                       // nothing listens
             {"pub", "-p", nobody, "-t", "a", "-m", "x"},                            // nothing listens
             {"sub", "-p", port, "-t", "a", "-u", "bob", "-P", "wrong"},             // CONNACK refusal
             {"pub", "-p", port, "-t", "a", "-m", "x", "-u", "bob", "-P", "wrong"},  // CONNACK refusal
             {"sub", "-p", port, "-t", "a", "-u", "bob", "-P", "pw", "-W", "1"},     // timed out: 27
         }) {
        const std::vector<std::string> args(flags.begin() + 1, flags.end());
        const std::string theirs_binary = "/usr/bin/mosquitto_" + flags[0];
        const auto loud_theirs = run(with({theirs_binary}, args));
        const auto loud_ours = run(with({tether, flags[0]}, args));
        EXPECT_NE(loud_theirs.err, "") << flags[0] << " " << args.back();
        EXPECT_NE(loud_ours.err, "") << flags[0] << " " << args.back();
        const auto theirs = run(with(with({theirs_binary}, args), {"--quiet"}));
        const auto ours = run(with(with({tether, flags[0]}, args), {"--quiet"}));
        EXPECT_NE(theirs.status, 0) << flags[0] << " " << args.back();
        EXPECT_EQ(ours.status, theirs.status) << flags[0] << " " << args.back();
        EXPECT_EQ(ours.status, loud_ours.status) << flags[0] << " " << args.back();
        EXPECT_EQ(ours.err, theirs.err) << flags[0] << " " << args.back();
        EXPECT_EQ(ours.err, "") << flags[0] << " " << args.back();
    }
}

// --nodelay is accepted by both commands with mosquitto's meaning (Nagle off; tether always
// turns it off: Client.NagleIsOff) and changes nothing else: the same output, the same status.
TEST(SubCompat, NodelayIsAcceptedAndChangesNothingElse) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    for (const std::string who : {"theirs", "ours"}) {
        const std::vector<std::string> pub = who == "ours" ? std::vector<std::string>{tether, "pub"}
                                                           : std::vector<std::string>{"/usr/bin/mosquitto_pub"};
        const auto r = run(with(pub, {"-p", port, "--nodelay", "-t", "nd/" + who, "-m", "fast", "-r", "-q", "1"}));
        EXPECT_EQ(r.status, 0) << who << ": " << r.err;
    }
    const std::vector<std::string> flags{"-t", "nd/#", "-v", "-C", "2", "-W", "10", "--nodelay"};
    const auto theirs = mosquitto_sub(b, flags);
    const auto ours = tether_sub(b, flags);
    EXPECT_EQ(theirs.status, 0) << theirs.err;
    EXPECT_EQ(ours.status, theirs.status) << ours.err;
    EXPECT_EQ(ours.out, theirs.out);
    EXPECT_NE(ours.out.find("nd/ours fast\n"), std::string::npos) << ours.out;  // the order is the broker's
    EXPECT_NE(ours.out.find("nd/theirs fast\n"), std::string::npos) << ours.out;
}

TEST(PubCompat, SourcesRepeatAndExitStatuses) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    std::ofstream(b.dir() / "payload.dat", std::ios::binary) << std::string("file\0body\n", 10);
    for (const std::string who : {"theirs", "ours"}) {
        const std::vector<std::string> head = who == "ours" ? std::vector<std::string>{tether, "pub"}
                                                            : std::vector<std::string>{"/usr/bin/mosquitto_pub"};
        const auto collect = run({"/usr/bin/mosquitto_sub", "-p", port, "-c", "-i", "c-" + who, "-q", "1", "-t", who + "/#", "-E"});
        ASSERT_EQ(collect.status, 0);
        EXPECT_EQ(run(with(head, {"-p", port, "-t", who + "/f", "-f", (b.dir() / "payload.dat").string(), "-q", "1"})).status, 0);
        EXPECT_EQ(run(with(head, {"-p", port, "-t", who + "/r", "-m", "again", "--repeat", "3", "--repeat-delay", "0.01", "-q", "1"})).status, 0);
        EXPECT_EQ(run(with(head, {"-p", port, "-t", who + "/l", "-l", "-q", "1"}), "l1\n\nl3\r\nlast").status, 0);
        EXPECT_EQ(run(with(head, {"-L", "mqtt://127.0.0.1:" + port + "/" + who + "/url", "-m", "by url", "-q", "1"})).status, 0);
    }
    const auto theirs = run({"/usr/bin/mosquitto_sub", "-p", port, "-c", "-i", "c-theirs", "-q", "1", "-t", "theirs/#", "-v", "-C", "9"});
    const auto ours = run({"/usr/bin/mosquitto_sub", "-p", port, "-c", "-i", "c-ours", "-q", "1", "-t", "ours/#", "-v", "-C", "9"});
    EXPECT_EQ(std::regex_replace(ours.out, std::regex("ours/"), "theirs/"), theirs.out);

    for (const auto& flags : std::vector<std::vector<std::string>>{
             {"-t", "a/+", "-m", "x"},          // not a topic name
             {"-t", "a", "-m", "x", "-n"},      // two sources
             {"-t", "a", "-f", "/nonexistent"},
             {"-t", "a", "-m", "x", "--repeat", "0"},
             {"-t", "a", "-m", "x", "-V", "mqttv311"},
         }) {
        const auto t = run(with({"/usr/bin/mosquitto_pub", "-p", port}, flags));
        const auto o = run(with({tether, "pub", "-p", port}, flags));
        EXPECT_EQ(o.status, t.status) << flags.back() << ": " << o.err;
    }
}

TEST(PubCompat, RefusedCredentialsStatus) {
    mosquitto_broker b({.anonymous = false, .users = {{"bob", "pw"}}});
    const std::vector<std::string> flags{"-p", std::to_string(b.port()), "-u", "bob", "-P", "wrong", "-t", "t", "-m", "x"};
    const auto theirs = run(with({"/usr/bin/mosquitto_pub"}, flags));
    const auto ours = run(with({tether, "pub"}, flags));
    EXPECT_EQ(ours.status, theirs.status) << ours.err;
    EXPECT_EQ(ours.err.substr(0, ours.err.find('\n')), theirs.err.substr(0, theirs.err.find('\n')));
    EXPECT_EQ(ours.err.find("wrong"), std::string::npos);  // no secrets in messages
}

}  // namespace
}  // namespace tether::test
