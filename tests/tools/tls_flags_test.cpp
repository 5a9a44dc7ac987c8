// --tls-version and --ciphers of `tether pub` and `tether sub`, against a server that can
// say no to them. mosquitto always allows TLS 1.3 and a broad cipher list, so the server
// here is socat (scripts/setup.sh installs it) terminating TLS 1.2 only, with one cipher
// suite, in front of a plain mosquitto listener. mosquitto_pub and mosquitto_sub run in the
// same setup, as the reference for what is refused and how it exits.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "../support/broker.hpp"
#include "../support/certs.hpp"
#include "../support/process.hpp"

namespace tether::test {
namespace {

using namespace std::chrono_literals;

const std::string tether = TETHER_BINARY;
const std::string socat = "/usr/bin/socat";

// The one suite the terminator offers (its certificate is EC P-256), and one it does not.
const std::string offered = "ECDHE-ECDSA-AES128-GCM-SHA256";
const std::string not_offered = "ECDHE-ECDSA-AES256-GCM-SHA384";

// TLS 1.2 at most, one cipher suite, forwarding each connection to the broker in clear.
class tls12_terminator {
public:
    tls12_terminator(const test_certs& certs, std::uint16_t broker_port)
        : port_(free_port()),
          socat_({socat, "-d",
                  "OPENSSL-LISTEN:" + std::to_string(port_) + ",bind=127.0.0.1,reuseaddr,fork,cert=" +
                      certs.server_cert + ",key=" + certs.server_key +
                      ",verify=0,openssl-max-proto-version=TLS1.2,cipherlist=" + offered,
                  "TCP:127.0.0.1:" + std::to_string(broker_port)}) {}
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] bool ready() { return wait_for_port(port_, 20s); }
    [[nodiscard]] std::string log() const { return socat_.err(); }

private:
    std::uint16_t port_;
    process socat_;
};

std::vector<std::string> with(std::vector<std::string> head, const std::vector<std::string>& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
}

// mosquitto's clients report a failed handshake in one of two ways, depending on whether it
// failed inside mosquitto_connect() or in the loop after it (which is a race on loopback):
// "Unable to connect (A TLS error occurred.)." with status 1, or "Error: A TLS error
// occurred." with status 8 (MOSQ_ERR_TLS). Both are seen here from run to run.
bool mosquitto_tls_failure(const run_result& r) {
    return (r.status == 1 && r.err == "Unable to connect (A TLS error occurred.).\n") ||
           (r.status == 8 && r.err == "Error: A TLS error occurred.\n");
}

class TlsFlags : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(std::filesystem::exists(socat)) << "socat is missing: run scripts/setup.sh";
        ASSERT_TRUE(terminator.ready()) << terminator.log();
        // A retained message, so that a subscriber that gets through has something to print.
        const auto r = run({"/usr/bin/mosquitto_pub", "-p", std::to_string(broker.port()), "-t", "tls/kept", "-m",
                            "through", "-r", "-q", "1"});
        ASSERT_EQ(r.status, 0) << r.err;
    }

    // Publishes at QoS 1 through the terminator (status 0 means the PUBACK came back).
    run_result pub(const std::string& program, const std::vector<std::string>& tls) {
        const std::vector<std::string> head =
            program == "tether" ? std::vector<std::string>{tether, "pub"} : std::vector<std::string>{"/usr/bin/mosquitto_pub"};
        return run(with(with(head, {"-h", "localhost", "-p", std::to_string(terminator.port()), "--cafile", certs.ca,
                                    "-t", "tls/p", "-m", "x", "-q", "1"}),
                        tls),
                   "", 20s);
    }
    // Subscribes through the terminator and prints the retained message.
    run_result sub(const std::string& program, const std::vector<std::string>& tls) {
        const std::vector<std::string> head =
            program == "tether" ? std::vector<std::string>{tether, "sub"} : std::vector<std::string>{"/usr/bin/mosquitto_sub"};
        return run(with(with(head, {"-h", "localhost", "-p", std::to_string(terminator.port()), "--cafile", certs.ca,
                                    "-t", "tls/kept", "-C", "1", "-W", "10"}),
                        tls),
                   "", 20s);
    }

    test_certs certs;
    mosquitto_broker broker;
    tls12_terminator terminator{certs, broker.port()};
};

// The control: without either flag both programs get through, so a refusal below is the
// flag's doing and not the setup's.
TEST_F(TlsFlags, WithoutTheFlagsBothProgramsGetThrough) {
    for (const std::string program : {"mosquitto", "tether"}) {
        const auto p = pub(program, {});
        EXPECT_EQ(p.status, 0) << program << ": " << p.err;
        const auto s = sub(program, {});
        EXPECT_EQ(s.status, 0) << program << ": " << s.err;
        EXPECT_EQ(s.out, "through\n") << program;
    }
}

// tlsv1.3 asks for TLS 1.3 at least: a TLS 1.2 server cannot agree, and the command fails
// with one clear line and status 1 (one of the two mosquitto gives). tlsv1.2 gets through.
TEST_F(TlsFlags, TlsVersion13IsRefusedByATls12ServerAnd12GetsThrough) {
    for (const std::string program : {"mosquitto", "tether"}) {
        const auto p = pub(program, {"--tls-version", "tlsv1.2"});
        EXPECT_EQ(p.status, 0) << program << ": " << p.err;
        const auto s = sub(program, {"--tls-version", "tlsv1.2"});
        EXPECT_EQ(s.status, 0) << program << ": " << s.err;
        EXPECT_EQ(s.out, "through\n") << program;
    }
    const std::vector<std::string> v13{"--tls-version", "tlsv1.3"};
    const auto their_pub = pub("mosquitto", v13);
    const auto their_sub = sub("mosquitto", v13);
    EXPECT_TRUE(mosquitto_tls_failure(their_pub)) << their_pub.status << " " << their_pub.err;
    EXPECT_TRUE(mosquitto_tls_failure(their_sub)) << their_sub.status << " " << their_sub.err;
    for (const auto& ours : {pub("tether", v13), sub("tether", v13)}) {
        EXPECT_EQ(ours.status, 1) << ours.err;
        EXPECT_EQ(ours.out, "");
        EXPECT_EQ(ours.err.rfind("Error: A TLS error occurred: ", 0), 0u) << ours.err;
        EXPECT_NE(ours.err.find("protocol version"), std::string::npos) << ours.err;
        EXPECT_EQ(std::count(ours.err.begin(), ours.err.end(), '\n'), 1) << ours.err;
    }
}

// --ciphers is the TLS 1.2 list the client offers: one the server does not take fails the
// handshake, one it takes (alone or among others) gets through.
TEST_F(TlsFlags, CiphersTheServerDoesNotOfferFailAndOnesItOffersWork) {
    for (const std::string program : {"mosquitto", "tether"}) {
        for (const std::string& list : {offered, not_offered + ":" + offered}) {
            const auto p = pub(program, {"--ciphers", list});
            EXPECT_EQ(p.status, 0) << program << " " << list << ": " << p.err;
            const auto s = sub(program, {"--ciphers", list});
            EXPECT_EQ(s.status, 0) << program << " " << list << ": " << s.err;
            EXPECT_EQ(s.out, "through\n") << program << " " << list;
        }
    }
    const std::vector<std::string> other{"--ciphers", not_offered};
    const auto their_pub = pub("mosquitto", other);
    const auto their_sub = sub("mosquitto", other);
    EXPECT_TRUE(mosquitto_tls_failure(their_pub)) << their_pub.status << " " << their_pub.err;
    EXPECT_TRUE(mosquitto_tls_failure(their_sub)) << their_sub.status << " " << their_sub.err;
    for (const auto& ours : {pub("tether", other), sub("tether", other)}) {
        EXPECT_EQ(ours.status, 1) << ours.err;
        EXPECT_EQ(ours.out, "");
        EXPECT_EQ(ours.err.rfind("Error: A TLS error occurred: ", 0), 0u) << ours.err;
        EXPECT_EQ(std::count(ours.err.begin(), ours.err.end(), '\n'), 1) << ours.err;
    }
}

// A list OpenSSL finds no cipher in is refused before connecting: mosquitto says so in
// its "Unable to connect" line with status 1; tether names the flag, also with status 1.
TEST_F(TlsFlags, ACipherListWithNoKnownCipherIsRefusedBeforeConnecting) {
    const std::vector<std::string> bogus{"--ciphers", "NO-SUCH-CIPHER"};
    for (const auto& theirs : {pub("mosquitto", bogus), sub("mosquitto", bogus)}) {
        EXPECT_EQ(theirs.status, 1) << theirs.err;
    }
    for (const auto& ours : {pub("tether", bogus), sub("tether", bogus)}) {
        EXPECT_EQ(ours.status, 1) << ours.err;
        // (The usage hint follows on a second line, as for every bad flag.)
        EXPECT_EQ(ours.err.substr(0, ours.err.find('\n')), "Error: --ciphers 'NO-SUCH-CIPHER' names no cipher OpenSSL knows.");
    }
}

}  // namespace
}  // namespace tether::test
