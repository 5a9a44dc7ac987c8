// The `tether` command, run as a program against a real mosquitto: the flags of
// mosquitto_pub and mosquitto_sub, exit statuses, and one-line errors.

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/broker.hpp"
#include "../support/certs.hpp"
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
    // -v prints an empty payload as "(null)", as mosquitto_sub does.
    EXPECT_EQ(sub.out, "cli/m hello world\ncli/n (null)\ncli/l one\ncli/l two\ncli/l three\ncli/s all of\nstdin\n");
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
    // mosquitto_pub's line, and the CONNACK return code as the status (5: not authorised).
    EXPECT_EQ(r.status, 5);
    EXPECT_EQ(r.err, "Connection error: Connection Refused: not authorised.\n");
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
        {cmd({"pub", "-t", "a", "-m", "x", "-n"}), "Error: Only one type of message can be sent at once."},
        {cmd({"sub", "--bogus"}), "Error: Unknown option '--bogus'."},
        {cmd({"sub"}), "Error: You must specify a topic"},
        {cmd({"sub", "-t", "a", "-c"}), "Error: You must provide a client id if you are using the -c option."},
        {cmd({"pub", "-t", "a", "-m", "x", "-q", "3"}), "Error: Invalid QoS given: 3"},
        {cmd({"pub", "-t", "a", "-m", "x", "-p"}), "Error: -p argument given but no port specified."},
        {cmd({"pub", "-t", "a", "-m", "x", "--cafile", "/nonexistent/ca.pem"}), "Error: Cannot read file"},
        {cmd({"pub", "-p", nobody, "-t", "a", "-m", "x"}), "Error: Connection refused"},
        {cmd({"pub", "-p", port, "-t", "a/+", "-m", "x"}), "Error: Invalid publish topic 'a/+', does it contain '+' or '#'?"},
        {cmd({"sub", "-t", "a", "-V", "mqttv5"}), "Error: MQTT v5 is not supported (-V mqttv5); tether speaks MQTT 3.1.1 only"},
        {cmd({"sub", "-t", "a", "-V", "5"}), "Error: MQTT v5 is not supported (-V 5)"},
        {cmd({"pub", "-t", "a", "-m", "x", "-V", "mqttv31"}), "Error: MQTT 3.1 is not supported (-V mqttv31)"},
        {cmd({"sub", "-t", "a", "-V", "mqttv4"}), "Error: Invalid protocol version argument given."},
        {cmd({"sub", "-t", "a", "-x", "60"}), "Error: -x (session expiry interval) is an MQTT v5 option"},
        {cmd({"pub", "-t", "a", "-m", "x", "-D", "publish", "user-property", "a", "b"}), "Error: -D (properties) is an MQTT v5 option"},
        {cmd({"sub", "-t", "a", "--retain-as-published"}), "Error: --retain-as-published is an MQTT v5 option"},
        {cmd({"sub", "-t", "a", "-i", "x", "-I", "y"}), "Error: -i and -I argument cannot be used together."},
        {cmd({"sub", "-t", "a", "-F", "%z"}), "Error: Invalid format specifier 'z'."},
        {cmd({"sub", "-t", "a", "--random-filter", "0.01"}), "Error: --random-filter chance must be between 0.1-100.0"},
        {cmd({"pub", "-L", "mqtt://localhost", "-m", "x"}), "Error: Invalid URL for -L argument specified - topic missing."},
        {cmd({"pub", "-L", "http://localhost/t", "-m", "x"}), "Error: Unsupported URL scheme."},
        {cmd({"sub", "-t", "a", "--unix", "/tmp/s", "--cafile", "/etc/hostname"}), "Error: TLS runs over TCP only"},
        {cmd({"sub", "-t", "a", "--tls-version", "tlsv1.1"}), "Error: --tls-version tlsv1.1 is not supported"},
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

// -U must reach the broker: a persistent session that held 'u/#' no longer collects on it.
// mosquitto_sub prints whatever the session delivers, subscribed in this run or not.
TEST(TetherCli, UnsubscribeDropsTheSessionsSubscription) {
    mosquitto_broker b({.log_packets = true});
    const std::string port = std::to_string(b.port());
    for (const std::string id : {"kept", "dropped"}) {
        ASSERT_EQ(run(cmd({"sub", "-p", port, "-c", "-i", id, "-q", "1", "-t", "u/#", "-E"})).status, 0);
    }
    const auto u = run(cmd({"sub", "-p", port, "-c", "-i", "dropped", "-U", "u/#", "-E"}), "", 10s);
    EXPECT_EQ(u.status, 0) << u.err;
    EXPECT_EQ(b.log_count("Received UNSUBSCRIBE from dropped"), 1u) << b.log();
    EXPECT_EQ(run(cmd({"pub", "-p", port, "-t", "u/x", "-m", "hello", "-q", "1"})).status, 0);
    const auto kept = run({"/usr/bin/mosquitto_sub", "-p", port, "-c", "-i", "kept", "-t", "none", "-v", "-W", "1"});
    const auto dropped = run({"/usr/bin/mosquitto_sub", "-p", port, "-c", "-i", "dropped", "-t", "none", "-v", "-W", "1"});
    EXPECT_EQ(kept.out, "u/x hello\n");  // the control: a session that still holds u/#
    EXPECT_EQ(dropped.out, "");
}

TEST(TetherCli, UnixSocket) {
    const auto dir = std::filesystem::temp_directory_path() / ("tether-unix-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "mqtt.sock").string();
    {
        mosquitto_broker b({.extra_config = "listener 0 " + path + "\n"});
        for (int i = 0; i < 500 && !std::filesystem::exists(path); ++i) std::this_thread::sleep_for(10ms);
        ASSERT_EQ(run(cmd({"sub", "--unix", path, "-c", "-i", "u", "-q", "1", "-t", "s", "-E"})).status, 0);
        EXPECT_EQ(run(cmd({"pub", "--unix", path, "-t", "s", "-m", "over unix", "-q", "1"})).status, 0);
        const auto r = run(cmd({"sub", "--unix", path, "-c", "-i", "u", "-q", "1", "-t", "s", "-C", "1"}));
        EXPECT_EQ(r.out, "over unix\n") << r.err;
        const auto missing = run(cmd({"pub", "--unix", (dir / "nothing.sock").string(), "-t", "s", "-m", "x"}));
        EXPECT_EQ(missing.status, 1);
        EXPECT_EQ(missing.err.rfind("Error: ", 0), 0u) << missing.err;
    }
    std::filesystem::remove_all(dir);
}

TEST(TetherCli, BindAddressIsTheSourceTheBrokerSees) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    EXPECT_EQ(run(cmd({"pub", "-p", port, "-A", "127.0.0.2", "-t", "a", "-m", "x"})).status, 0);
    EXPECT_EQ(b.log_count("New connection from 127.0.0.2"), 1u) << b.log();
    const auto v6 = run(cmd({"pub", "-p", port, "-A", "::1", "-t", "a", "-m", "x"}));  // broker is on IPv4
    EXPECT_EQ(v6.status, 1);
}

TEST(TetherCli, IdPrefixUrlAndSeveralEndpoints) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    const auto p = run(cmd({"pub", "-p", port, "-I", "pre-", "-t", "a", "-m", "x", "-d"}));
    EXPECT_EQ(p.status, 0);
    EXPECT_NE(p.err.find("Client pre-"), std::string::npos) << p.err;
    // A dead endpoint first: the next one in turn takes over.
    const std::string dead = std::to_string(free_port());
    ASSERT_EQ(run(cmd({"sub", "-h", "127.0.0.1:" + dead, "-h", "127.0.0.1:" + port, "-c", "-i", "ep", "-q", "1",
                       "-t", "ep", "-E"}), "", 20s).status, 0);
    EXPECT_EQ(run(cmd({"pub", "-L", "mqtt://127.0.0.1:" + dead + "/ep", "-L", "mqtt://127.0.0.1:" + port + "/ep", "-m",
                       "second", "-q", "1"}), "", 20s).status, 0);
    const auto r = run(cmd({"sub", "-p", port, "-c", "-i", "ep", "-q", "1", "-t", "ep", "-C", "1"}));
    EXPECT_EQ(r.out, "second\n");
}

TEST(TetherCli, HelpAndVersionExitAsMosquittoDoes) {
    for (const char* sub : {"pub", "sub"}) {
        const auto theirs = run({std::string("/usr/bin/mosquitto_") + sub, "--help"});
        const auto ours = run(cmd({sub, "-t", "a", "--help"}));
        EXPECT_EQ(ours.status, theirs.status);
        EXPECT_NE(ours.out.find("several"), std::string::npos);  // says how to give several brokers
    }
}

// ~/.config/mosquitto_sub (here $XDG_CONFIG_HOME/mosquitto_sub): read as mosquitto_sub
// reads it, the command line winning where a flag takes one value.
TEST(TetherCli, ReadsMosquittosOptionsFileAsMosquittoDoes) {
    mosquitto_broker b;
    mosquitto_broker elsewhere;  // a broker the file names, which the command line replaces
    const std::string port = std::to_string(b.port());
    char pattern[] = "/tmp/tether-options-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    const std::filesystem::path dir = pattern;
    {
        // The file's -h names another broker: the command line's -h must replace it, not be
        // added to it as a second broker to fail over to.
        std::ofstream f(dir / "mosquitto_sub");
        f << "# defaults for this test\n-p " << port << "\n-h 127.0.0.1:" << elsewhere.port() << "\n\n-v\n-q 1\r\n";
    }
    auto with_file = [&](const std::string& program, std::vector<std::string> args) {
        std::vector<std::string> argv{"/usr/bin/env", "XDG_CONFIG_HOME=" + dir.string(), program};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, "", 20s);
    };
    const std::vector<std::string> sub_args{"-h", "127.0.0.1", "-c", "-t", "of/#"};
    auto with_id = [&](const char* id, std::vector<std::string> extra) {
        std::vector<std::string> a = sub_args;
        a.push_back("-i");
        a.push_back(id);
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    };
    // Persistent sessions at QoS 1 (from the file) for both programs.
    const auto ours_made = with_file(tether, [&] { auto a = with_id("ours", {"-E"}); a.insert(a.begin(), "sub"); return a; }());
    ASSERT_EQ(ours_made.status, 0) << ours_made.err;
    ASSERT_EQ(with_file("/usr/bin/mosquitto_sub", with_id("theirs", {"-E"})).status, 0);
    ASSERT_EQ(run(cmd({"pub", "-p", port, "-t", "of/a", "-m", "hello", "-q", "1"})).status, 0);

    const auto ours = with_file(tether, [&] { auto a = with_id("ours", {"-C", "1", "-W", "10"}); a.insert(a.begin(), "sub"); return a; }());
    const auto theirs = with_file("/usr/bin/mosquitto_sub", with_id("theirs", {"-C", "1", "-W", "10"}));
    EXPECT_EQ(ours.status, 0) << ours.err;
    EXPECT_EQ(ours.out, "of/a hello\n");  // -v from the file
    EXPECT_EQ(ours.out, theirs.out);

    // A bad flag in the file is refused, and the error says where it came from.
    {
        std::ofstream f(dir / "mosquitto_sub");
        f << "-q 7\n";
    }
    const auto bad = with_file(tether, {"sub", "-t", "x"});
    EXPECT_EQ(bad.status, 1);
    EXPECT_NE(bad.err.find((dir / "mosquitto_sub").string()), std::string::npos) << bad.err;
    std::filesystem::remove_all(dir);
}

// --capath trusts the CAs of a hashed folder (openssl rehash), as mosquitto_pub's does: a
// folder with the broker's CA connects, one with another CA does not (so the flag is not
// ignored, and verification is not off). --tls-use-os-certs trusts the system's CAs, which
// do not include this test's CA: refused, unless --cafile adds it.
TEST(TetherCli, TlsCapathAndOsCertsChooseWhatIsTrusted) {
    test::test_certs certs;
    mosquitto_broker b({.tls_cert = certs.server_cert, .tls_key = certs.server_key});
    const std::string port = std::to_string(b.port());
    auto hashed_folder = [&](const std::string& name, const std::string& ca) {
        const std::filesystem::path d = certs.dir / name;
        std::filesystem::create_directories(d);
        std::filesystem::copy_file(ca, d / "ca.pem");
        EXPECT_EQ(run({"/usr/bin/openssl", "rehash", d.string()}).status, 0);
        return d.string();
    };
    const std::string good = hashed_folder("good-capath", certs.ca);
    const std::string other = hashed_folder("other-capath", certs.other_ca);
    auto pub = [&](std::vector<std::string> tls) {
        std::vector<std::string> a{tether, "pub", "-h", "localhost", "-p", port, "-t", "t", "-m", "x", "-q", "1"};
        a.insert(a.end(), tls.begin(), tls.end());
        return run(a, "", 20s);
    };
    const auto trusted = pub({"--capath", good});
    EXPECT_EQ(trusted.status, 0) << trusted.err;
    EXPECT_NE(pub({"--capath", other}).status, 0);
    EXPECT_NE(pub({"--tls-use-os-certs"}).status, 0);
    const auto both = pub({"--tls-use-os-certs", "--cafile", certs.ca});
    EXPECT_EQ(both.status, 0) << both.err;
}

TEST(TetherCli, RandomFilterAtFullChancePrintsEverything) {
    mosquitto_broker b;
    const std::string port = std::to_string(b.port());
    ASSERT_EQ(run(cmd({"sub", "-p", port, "-c", "-i", "rf", "-q", "1", "-t", "rf", "-E"})).status, 0);
    EXPECT_EQ(run(cmd({"pub", "-p", port, "-t", "rf", "-l", "-q", "1"}), "1\n2\n3\n4\n5\n").status, 0);
    const auto r = run(cmd({"sub", "-p", port, "-c", "-i", "rf", "-q", "1", "-t", "rf", "-C", "5", "--random-filter", "100"}));
    EXPECT_EQ(r.out, "1\n2\n3\n4\n5\n");
}

}  // namespace
}  // namespace tether::test
