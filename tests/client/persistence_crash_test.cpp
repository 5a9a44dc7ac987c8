// The crash test of the durable outbox: a publisher process (persist_child) publishes a
// numbered stream at QoS 1 and QoS 2 with persistence through a real mosquitto, and is
// killed with SIGKILL at random points, several times — once while the broker is down and
// everything it accepts waits in its offline queue — and started again each time with the
// same client id and directory. A subscriber with a persistent session must see every
// message the publisher had accepted: QoS 1 at least once, QoS 2 exactly once.
//
// Nothing here depends on timing: the kills come when the publisher has accepted a random
// number of messages, and the end is known by a sentinel published after the last run
// exited with everything acknowledged. The soak (scripts/soak_persistence.sh) runs the same
// test longer: TETHER_CRASH_KILLS, TETHER_CRASH_MESSAGES, TETHER_CRASH_SEED;
// TETHER_CRASH_VERBOSE=1 prints each run's connections and any duplicate as it comes.

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../support/broker.hpp"
#include "../support/coro_test.hpp"
#include "../support/loopback.hpp"
#include "../support/process.hpp"
#include "../support/proxy.hpp"
#include "tether/client/client.hpp"

namespace tether::client {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::mosquitto_broker;
using test::run_coro;

unsigned long setting(const char* name, unsigned long fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != 0 ? std::strtoul(v, nullptr, 10) : fallback;
}

// The numbers a run reported accepted (complete lines only).
std::vector<unsigned long> accepted_numbers(const std::string& out) {
    std::vector<unsigned long> numbers;
    std::size_t at = 0;
    for (std::size_t nl = out.find('\n'); nl != std::string::npos; nl = out.find('\n', at)) {
        const std::string line = out.substr(at, nl - at);
        if (line != "acknowledged") numbers.push_back(std::strtoul(line.c_str(), nullptr, 10));
        at = nl + 1;
    }
    return numbers;
}

std::size_t lines(const std::string& out) { return static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n')); }

TEST(PersistenceCrash, EveryAcceptedMessageArrivesAfterRepeatedKillsQos2ExactlyOnce) {
    const unsigned long kills = setting("TETHER_CRASH_KILLS", 6);
    const unsigned long total = setting("TETHER_CRASH_MESSAGES", 3000);
    const unsigned long seed = setting("TETHER_CRASH_SEED", 20261126);
    const unsigned long broker_down_round = kills >= 3 ? kills / 2 : 0;  // 0: none
    std::mt19937 rng(static_cast<std::uint32_t>(seed));
    RecordProperty("seed", std::to_string(seed));

    // Without max_inflight_messages, mosquitto 2.0.11 drops QoS 1 messages for a persistent
    // subscriber (resilience_test.cpp says more).
    mosquitto_broker broker({.extra_config = "max_inflight_messages 0"});
    std::string tmpl = (std::filesystem::temp_directory_path() / "tether-crash-XXXXXX").string();
    const std::filesystem::path dir = ::mkdtemp(tmpl.data());

    std::set<std::pair<unsigned long, unsigned long>> accepted;  // (number, run)
    std::map<std::string, int> seen;                             // payload -> times received
    std::map<std::string, qos> seen_qos;
    bool sentinel = false;
    std::string failure;

    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            options so = test::loopback(broker.port(), "crash-sub");
            so.clean_session = false;
            so.keep_alive_s = 5;
            so.reconnect.initial_delay = 10ms;
            so.reconnect.max_delay = 100ms;
            client sub(io.get_executor(), so);
            CO_ASSERT(!co_await sub.connect());
            subscription s("crash/#", qos::exactly_once, [&](const message& m) {
                if (m.topic == "crash/end") {
                    sentinel = true;
                    return;
                }
                const std::string p(m.text());
                ++seen[p];
                if (std::getenv("TETHER_CRASH_VERBOSE") != nullptr && seen[p] > 1 && m.qos == qos::exactly_once) {
                    std::fprintf(stderr, "again: %s dup %d after %zu distinct\n", p.c_str(), m.dup ? 1 : 0, seen.size());
                }
                seen_qos[p] = m.qos;
            });
            CO_ASSERT(!(co_await sub.subscribe(std::move(s))).ec);
            // The publisher's way to the broker. "The broker down" is this proxy refusing
            // every connection: the broker itself is not restarted, since mosquitto 2.0.11
            // restored from its persistence file sends a subscriber again, as a new PUBLISH,
            // a QoS 2 message it had already sent PUBREL for — a duplicate of its own.
            test::tcp_proxy proxy(io, broker.port());
            const std::string port = std::to_string(proxy.port());

            unsigned long next = 1;
            for (unsigned long run = 1; run <= kills + 1; ++run) {
                const bool last_run = run == kills + 1;
                test::process child({PERSIST_CHILD, port, dir.string(), "crash-pub", std::to_string(next),
                                     std::to_string(total), std::to_string(run)});
                if (run == broker_down_round + 1 && broker_down_round != 0) proxy.refuse(false);  // down across the kill
                if (last_run) {
                    int status = -2;
                    // The child ends by itself; wait() would block this thread, and with it
                    // the proxy and the subscriber, so its last line is awaited first.
                    const bool finished = co_await eventually(
                        [&] { return child.out().find("acknowledged\n") != std::string::npos; }, 300s);
                    if (finished) status = child.wait(120s);
                    if (status != 0) {
                        failure = "the last run did not finish: status " + std::to_string(status) + ": " + child.err();
                        co_return;
                    }
                } else {
                    // Killed once it has accepted a random number of messages (never all).
                    const std::size_t left = total - next + 1;
                    const std::size_t at = 1 + rng() % std::min<std::size_t>(300, left > 2 ? left - 1 : 1);
                    if (!co_await eventually([&] { return lines(child.out()) >= at; }, 120s)) {
                        failure = "run " + std::to_string(run) + " stalled: " + child.err();
                        co_return;
                    }
                    if (run == broker_down_round) {
                        // The broker goes away; what the child accepts now waits in its
                        // offline queue, in the journal, when it dies.
                        proxy.refuse(true);
                        if (std::getenv("TETHER_CRASH_VERBOSE") != nullptr) {
                            std::fprintf(stderr, "broker away at %zu accepted in run %lu, %zu distinct seen\n",
                                         lines(child.out()), run, seen.size());
                        }
                        const std::size_t more = lines(child.out()) + 1 + rng() % 100;
                        if (!co_await eventually([&] { return lines(child.out()) >= more; }, 120s)) {
                            failure = "run " + std::to_string(run) + " stalled offline: " + child.err();
                            co_return;
                        }
                    }
                    child.kill(SIGKILL);
                    (void)child.wait(30s);
                }
                if (std::getenv("TETHER_CRASH_VERBOSE") != nullptr) std::fprintf(stderr, "run %lu: %s", run, child.err().c_str());
                const auto numbers = accepted_numbers(child.out());
                for (const unsigned long k : numbers) accepted.emplace(k, run);
                if (!numbers.empty()) next = numbers.back() + 1;
            }
            // Every message of crash-pub was acknowledged (the last run's disconnect waited
            // for it) before this is published: the broker queued them all ahead of it.
            client end(io.get_executor(), test::loopback(broker.port(), "crash-end"));
            CO_ASSERT(!co_await end.connect());
            CO_ASSERT(!co_await end.publish("crash/end", "end", qos::exactly_once, wait::ack));
            CO_ASSERT(co_await eventually([&] { return sentinel; }, 60s));
            (void)co_await end.disconnect();
            (void)co_await sub.disconnect();
        },
        600s);
    std::filesystem::remove_all(dir);
    ASSERT_TRUE(failure.empty()) << failure;

    // Every number was accepted by some run; every accepted message arrived, QoS 2 once.
    std::set<unsigned long> numbers;
    for (const auto& [k, run] : accepted) numbers.insert(k);
    EXPECT_EQ(numbers.size(), total);
    std::size_t missing = 0, doubled_qos2 = 0, qos1_duplicates = 0;
    for (const auto& [k, run] : accepted) {
        const std::string p = std::to_string(k) + "/" + std::to_string(run);
        const auto it = seen.find(p);
        if (it == seen.end()) {
            if (++missing <= 5) ADD_FAILURE() << "accepted and never delivered: " << p;
            continue;
        }

        if (k % 2 == 1 && it->second > 1) qos1_duplicates += static_cast<std::size_t>(it->second - 1);
    }
    // A message accepted in the instant before a kill, before its number was written out,
    // may arrive without being listed: never twice at QoS 2 either.
    for (const auto& [p, count] : seen) {
        if (seen_qos[p] == qos::exactly_once && count != 1 && ++doubled_qos2 <= 5) {
            ADD_FAILURE() << "QoS 2 message delivered " << count << " times: " << p;
        }
    }
    EXPECT_EQ(missing, 0u);
    EXPECT_EQ(doubled_qos2, 0u);
    EXPECT_LE(seen.size(), accepted.size() + kills);  // at most one unlisted per kill
    RecordProperty("qos1_duplicates", std::to_string(qos1_duplicates));
    std::printf("crash test: %lu kills, %zu accepted, %zu distinct delivered, %zu QoS 1 duplicates\n", kills,
                accepted.size(), seen.size(), qos1_duplicates);
}

}  // namespace
}  // namespace tether::client
