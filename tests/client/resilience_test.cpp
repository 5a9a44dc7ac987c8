// Resilience: links cut at random, a broker stopped and started, a broker killed, a link
// gone silent, refusals that must stop the retries, and the offline queue's bound.
// Every test counts messages: sent, received, duplicates, lost.

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "../support/broker.hpp"
#include "../support/coro_test.hpp"
#include "../support/loopback.hpp"
#include "../support/proxy.hpp"
#include "tether/client/client.hpp"

namespace tether::client {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::mosquitto_broker;
using test::run_coro;
using test::sleep_for;
using test::tcp_proxy;

options via(std::uint16_t port, std::string id, bool clean) {
    options o = test::loopback(port, std::move(id));
    o.clean_session = clean;
    o.keep_alive_s = 5;
    o.reconnect.initial_delay = 10ms;
    o.reconnect.max_delay = 200ms;
    o.connect_timeout = 2s;
    return o;
}

// Debian 12's mosquitto 2.0.11 drops QoS 1 messages queued for a persistent subscriber
// that reconnects quickly while its inflight quota (max_inflight_messages, default 20) is
// in use: the broker acknowledges them to the publisher and never sends them on. A
// libmosquitto subscriber loses as many under the same cuts, and no client loses any
// with the quota off (tests/client/broker_defect_test.cpp shows all three). 2.0.13's
// changelog lists fixes to inflight quota management. These tests measure the client,
// so they run the broker with the quota off.
const test::broker_options unlimited_inflight{.extra_config = "max_inflight_messages 0"};
// The same, saving its state to disk (on SIGTERM) for restart tests.
const test::broker_options persistent_unlimited_inflight{.persistence = true,
                                                         .extra_config = "max_inflight_messages 0"};

// What a subscriber saw, per payload.
struct tally {
    std::map<std::string, int> q1, q2;
    [[nodiscard]] std::size_t distinct() const { return q1.size() + q2.size(); }
    [[nodiscard]] int q2_duplicates() const {
        int d = 0;
        for (const auto& [k, n] : q2) d += n - 1;
        return d;
    }
    [[nodiscard]] int q1_duplicates() const {
        int d = 0;
        for (const auto& [k, n] : q1) d += n - 1;
        return d;
    }
};

subscription counting(std::string filter, qos q, std::shared_ptr<tally> t) {
    return {std::move(filter), q, [t](const message& m) {
                (m.qos == qos::exactly_once ? t->q2 : t->q1)[std::string(m.text())]++;
            }};
}

struct events {
    int connected = 0;
    int disconnected = 0;
    int reconnecting = 0;
    std::error_code last_reason;
    std::chrono::steady_clock::time_point last_disconnect;
};

void watch(client& c, std::shared_ptr<events> e) {
    c.on_connection_event([e](const connection_event& ev) {
        if (ev.state == connection_state::connected) ++e->connected;
        if (ev.state == connection_state::disconnected) {
            ++e->disconnected;
            e->last_disconnect = std::chrono::steady_clock::now();
        }
        if (ev.state == connection_state::reconnecting) ++e->reconnecting;
        if (ev.reason) e->last_reason = ev.reason;
    });
}

// Cuts that land while messages flow, and nothing here depends on how fast the machine
// is. Subscriber and publisher both go through the proxy, both with persistent sessions
// (QoS 2 is then exactly once end to end, whatever is cut). The subscriber's handler cuts
// every link when a given number of distinct messages has arrived, at points drawn from a
// seeded generator, and only on a subscriber connection not cut before: each cut ends a
// live link in mid-stream, and the subscriber reconnects after each. The publisher keeps at
// most `ahead` messages unreceived, so a cut finds at most that many in flight on each
// link: what it can make the broker or the publisher send twice.
TEST(Resilience, RandomCutsLoseNothingAndDuplicateNoQos2) {
    mosquitto_broker broker(unlimited_inflight);
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            tcp_proxy proxy(io, broker.port());
            auto seen = std::make_shared<tally>();
            auto sub_events = std::make_shared<events>();
            client sub(io.get_executor(), via(proxy.port(), "cut-sub", false));
            client pub(io.get_executor(), via(proxy.port(), "cut-pub", false));
            watch(sub, sub_events);

            constexpr int per_qos = 1000;
            constexpr int ahead = 8;
            constexpr std::size_t cuts = 16;
            std::vector<std::size_t> cut_at;  // distinct messages received when each cut comes
            std::mt19937 rng(20261125);
            for (std::size_t at = 0; cut_at.size() < cuts;) cut_at.push_back(at += 20 + rng() % 80);
            CO_ASSERT(cut_at.back() < 2 * per_qos);
            std::vector<std::size_t> links_at_cut;  // live links each cut closed
            int cut_connection = 0;                 // the subscriber connection last cut
            asio::steady_timer progress(io);        // the publisher waits on it for room
            auto on_message = [&, seen](const message& m) {
                (m.qos == qos::exactly_once ? seen->q2 : seen->q1)[std::string(m.text())]++;
                progress.cancel();
                const std::size_t next = links_at_cut.size();
                if (next < cuts && seen->distinct() >= cut_at[next] && sub_events->connected > cut_connection) {
                    cut_connection = sub_events->connected;
                    links_at_cut.push_back(proxy.cut());
                }
            };
            std::vector<subscription> subs{{"cut/1", qos::at_least_once, on_message},
                                           {"cut/2", qos::exactly_once, on_message}};
            CO_ASSERT(!(co_await sub.subscribe(std::move(subs), wait::none)).ec);
            CO_ASSERT(!(co_await sub.connect()));
            CO_ASSERT(!(co_await pub.connect()));

            int published = 0;
            for (int i = 0; i < per_qos; ++i) {
                while (published - static_cast<int>(seen->distinct()) >= ahead) {
                    progress.expires_after(30s);
                    const auto [woken] = co_await progress.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
                    if (woken != asio::error::operation_aborted) {  // by the time limit, not by a message
                        ADD_FAILURE() << "nothing arrived for 30 s: " << seen->distinct() << " of " << published
                                      << " published messages received";
                        co_return;
                    }
                }
                CO_ASSERT(!(co_await pub.publish("cut/1", "[a" + std::to_string(i) + "]", qos::at_least_once, wait::none)));
                CO_ASSERT(!(co_await pub.publish("cut/2", "[b" + std::to_string(i) + "]", qos::exactly_once, wait::none)));
                published += 2;
            }
            const bool all = co_await eventually([&] { return seen->distinct() == 2 * per_qos; }, 30s);
            EXPECT_FALSE(co_await pub.disconnect(10s));
            // Duplicates still on their way come before the answer to this ping.
            CO_ASSERT(!(co_await sub.ping()));
            const auto lost = 2 * per_qos - static_cast<int>(seen->distinct());
            std::cout << "[ counts   ] sent " << 2 * per_qos << ", received " << seen->distinct()
                      << " distinct, QoS 1 duplicates " << seen->q1_duplicates() << ", QoS 2 duplicates "
                      << seen->q2_duplicates() << ", lost " << lost << ", cuts " << links_at_cut.size()
                      << " closing " << proxy.links_cut() << " live links, subscriber connections "
                      << sub_events->connected << "\n";
            EXPECT_TRUE(all);
            EXPECT_EQ(lost, 0);
            EXPECT_EQ(seen->q2_duplicates(), 0);  // exactly once
            // Each cut came, and closed a live link: the subscriber's own, at least.
            EXPECT_EQ(links_at_cut.size(), cuts);
            for (const std::size_t n : links_at_cut) EXPECT_GE(n, 1u);
            EXPECT_GE(sub_events->connected, static_cast<int>(cuts) + 1);
            // At least once, and not much more: a cut can have the subscriber's broker send
            // again what it had not seen acknowledged (at most `ahead` unreceived, and the
            // acknowledgements of the read under way), and the publisher resend what it had
            // not seen acknowledged (again at most `ahead`). Never anything older.
            EXPECT_LE(seen->q1_duplicates(), static_cast<int>(cuts) * 2 * ahead);
        },
        120s);
}

TEST(Resilience, CleanSessionSubscriptionsAreRestoredAfterEachReconnect) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        tcp_proxy proxy(io, broker.port());
        auto seen = std::make_shared<tally>();
        auto ev = std::make_shared<events>();
        client sub(io.get_executor(), via(proxy.port(), "restore", true));
        watch(sub, ev);
        CO_ASSERT(!(co_await sub.connect()));
        CO_ASSERT(!(co_await sub.subscribe(counting("back/#", qos::at_least_once, seen))).ec);
        client pub(io.get_executor(), via(broker.port(), "restore-pub", true));
        CO_ASSERT(!(co_await pub.connect()));
        for (int round = 0; round < 3; ++round) {
            proxy.cut();
            CO_ASSERT(co_await eventually([&] { return ev->connected == round + 2; }));
            CO_ASSERT(co_await eventually([&] { return sub.is_connected(); }));
            // The server forgot the clean session's subscription; the client restored it.
            CO_ASSERT(!(co_await sub.ping()));  // the SUBSCRIBE went before this PINGREQ
            CO_ASSERT(!(co_await pub.publish("back/" + std::to_string(round), "r", qos::at_least_once)));
            CO_ASSERT(co_await eventually([&] { return seen->q1.size() == 1 && seen->q1["r"] == round + 1; }));
        }
    });
}

TEST(Resilience, BrokerStoppedAndStartedLosesNoQos12Message) {
    mosquitto_broker broker(persistent_unlimited_inflight);
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            auto seen = std::make_shared<tally>();
            client sub(io.get_executor(), via(broker.port(), "restart-sub", false));
            client pub(io.get_executor(), via(broker.port(), "restart-pub", false));
            std::vector<subscription> subs{counting("rs/1", qos::at_least_once, seen),
                                           counting("rs/2", qos::exactly_once, seen)};
            CO_ASSERT(!(co_await sub.subscribe(std::move(subs), wait::none)).ec);
            CO_ASSERT(!(co_await sub.connect()));
            CO_ASSERT(!(co_await pub.connect()));
            constexpr int per_qos = 300;
            for (int i = 0; i < per_qos; ++i) {
                if (i == per_qos / 2) {
                    broker.stop(SIGTERM);  // saves its persistence file
                    co_await sleep_for(300ms);
                    broker.start();
                }
                CO_ASSERT(!(co_await pub.publish("rs/1", "a" + std::to_string(i), qos::at_least_once, wait::none)));
                CO_ASSERT(!(co_await pub.publish("rs/2", "b" + std::to_string(i), qos::exactly_once, wait::none)));
                if (i % 25 == 0) co_await sleep_for(10ms);
            }
            const bool all = co_await eventually([&] { return seen->distinct() == 2 * per_qos; }, 30s);
            std::cout << "[ counts   ] sent " << 2 * per_qos << ", received " << seen->distinct()
                      << " distinct, QoS 2 duplicates " << seen->q2_duplicates() << "\n";
            EXPECT_TRUE(all);
            // No QoS 2 duplicate is asserted here: mosquitto 2.0.11 restored from its
            // persistence file sends a subscriber a QoS 2 message it had already sent PUBREL
            // for as a new PUBLISH, a duplicate of its own (seen in its packet log;
            // docs/PERSISTENCE.md). It showed as 8 and 18 duplicates in 2 of 4 loaded ASan
            // runs. Exactly once across lost links is asserted where the broker stays up
            // (Resilience.RandomCutsLoseNothingAndDuplicateNoQos2, PersistenceCrash.*).
            EXPECT_FALSE(co_await pub.disconnect(10s));
        },
        90s);
}

TEST(Resilience, BrokerKilledDeliversEverythingItHadNotAcknowledged) {
    mosquitto_broker broker(persistent_unlimited_inflight);
    run_coro(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            auto seen = std::make_shared<tally>();
            client sub(io.get_executor(), via(broker.port(), "kill-sub", false));
            auto sub_events = std::make_shared<events>();
            watch(sub, sub_events);
            CO_ASSERT(!(co_await sub.connect()));
            CO_ASSERT(!(co_await sub.subscribe(counting("k/#", qos::at_least_once, seen), wait::ack)).ec);
            // Make the broker save the subscriber's session with its subscription, as a
            // broker that has run a while would have: SIGTERM writes the persistence file.
            broker.stop(SIGTERM);
            broker.start();
            CO_ASSERT(co_await eventually([&] { return sub_events->connected == 2; }));  // reconnected
            CO_ASSERT(!(co_await sub.ping()));  // and its SUBSCRIBE, sent before, is through

            client pub(io.get_executor(), via(broker.port(), "kill-pub", true));
            CO_ASSERT(!(co_await pub.connect()));
            constexpr int total = 400;
            std::set<int> acked_before_kill;
            int completed = 0;
            bool killed = false;
            for (int i = 0; i < total; ++i) {
                asio::co_spawn(
                    io,
                    [&, i]() -> asio::awaitable<void> {
                        const auto ec = co_await pub.publish("k/t", std::to_string(i), qos::at_least_once, wait::ack);
                        EXPECT_FALSE(ec) << ec.message();
                        if (!killed) acked_before_kill.insert(i);
                        ++completed;
                    },
                    asio::detached);
                if (i == total / 2) {
                    co_await sleep_for(20ms);
                    killed = true;
                    broker.stop(SIGKILL);  // no chance to save anything
                    broker.start();
                }
            }
            CO_ASSERT(co_await eventually([&] { return completed == total; }, 30s));
            // Everything the broker took comes to the subscriber before a message published
            // after it (the subscriber's queue at the broker is in order).
            CO_ASSERT(!(co_await pub.publish("k/t", "end", qos::at_least_once, wait::ack)));
            CO_ASSERT(co_await eventually([&] { return seen->q1.contains("end"); }, 30s));
            int unacked_delivered = 0;
            int unacked_lost = 0;
            int acked_lost = 0;
            for (int i = 0; i < total; ++i) {
                const bool got = seen->q1.contains(std::to_string(i));
                if (acked_before_kill.contains(i)) {
                    acked_lost += got ? 0 : 1;  // the broker acknowledged, then lost it: its loss
                } else {
                    (got ? unacked_delivered : unacked_lost) += 1;
                }
            }
            std::cout << "[ counts   ] sent " << total << ", acknowledged before the kill "
                      << acked_before_kill.size() << " (lost by the broker: " << acked_lost
                      << "), not acknowledged " << total - acked_before_kill.size() << " (delivered "
                      << unacked_delivered << ", lost " << unacked_lost << ")\n";
            EXPECT_EQ(unacked_lost, 0);  // everything it had not acknowledged arrives
            EXPECT_GT(unacked_delivered, 0);
        },
        90s);
}

// The rule itself (PINGREQ after a keep-alive of silence, the link dead when its answer is
// half a keep-alive late) is tested on a manual clock in the core (SessionKeepAlive.*).
// Here: the client applies it to a real link that went silent, says why it dropped the
// link, and reconnects. The time taken is printed, and bounded only where a busy machine
// cannot reach: the client cannot notice before a PINGREQ has gone unanswered for half a
// keep-alive, and a limit of ten keep-alives catches a client that does not look in time.
// The connect timeout is longer than that limit, so that a keep-alive that waits for the
// connect timer (instead of starting at CONNACK) fails here too.
TEST(Resilience, SilentLinkIsDetectedWithinOneAndAHalfKeepAlives) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        tcp_proxy proxy(io, broker.port());
        options o = via(proxy.port(), "silent", true);
        o.keep_alive_s = 1;
        o.connect_timeout = 30s;
        client c(io.get_executor(), o);
        auto ev = std::make_shared<events>();
        watch(c, ev);
        CO_ASSERT(!(co_await c.connect()));
        const auto silenced = std::chrono::steady_clock::now();
        proxy.silence();
        CO_ASSERT(co_await eventually([&] { return ev->disconnected >= 1; }, 20s));
        const auto detected = ev->last_disconnect - silenced;
        std::cout << "[ timing   ] silent link detected after "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(detected).count() << " ms (keep-alive 1000 ms)\n";
        EXPECT_EQ(ev->last_reason, make_error_code(core::error::keep_alive_timeout)) << ev->last_reason.message();
        EXPECT_GE(detected, 500ms);
        EXPECT_LE(detected, 10s);
        CO_ASSERT(co_await eventually([&] { return ev->connected >= 2; }, 20s));  // and reconnected
        EXPECT_FALSE(co_await c.publish("after/silence", "ok", qos::at_least_once));
    });
}

TEST(Resilience, RefusalAfterReconnectStopsRetrying) {
    mosquitto_broker broker({.anonymous = false, .users = {{"carol", "old"}}});
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o = via(broker.port(), "carol-dev", true);
        o.user_name = "carol";
        o.password = "old";
        client c(io.get_executor(), o);
        auto ev = std::make_shared<events>();
        watch(c, ev);
        CO_ASSERT(!(co_await c.connect()));
        broker.stop(SIGTERM);
        broker.set_password("carol", "new");  // the credentials went stale while away
        broker.start();
        CO_ASSERT(co_await eventually([&] { return ev->last_reason == errc::not_authorized ||
                                                   ev->last_reason == errc::bad_user_name_or_password; },
                                      20s));
        // No more tries: the client has stopped. While it would still try, a publish is
        // queued for the next connection; now it is refused.
        EXPECT_FALSE(c.is_connected());
        EXPECT_EQ(co_await c.publish("t", "x", qos::at_least_once, wait::none), errc::not_connected);
        EXPECT_EQ(ev->disconnected, 2);  // the lost link, then the refusal
    });
}

// The backoff the engine really uses, read from its reconnecting events (each carries the
// delay drawn before the attempt), never from a clock: 32 clients lose their broker and
// each makes 12 attempts against the absent broker. With initial 8 ms and cap 128 ms, the
// ceiling of attempt n is min(128, 8 * 2^(n-1)) ms and each delay is uniform in
// [0, ceiling]. Then, per attempt number, every delay is within the ceiling and the
// largest of 32 is above half of it (else the ceiling did not grow: a chance of about
// 10^-8 that a correct client fails this); at the cap the delays spread over the range
// instead of being one fraction of it. The one timing check: each attempt comes no sooner than its delay,
// which a busy machine can only make later.
TEST(Resilience, BackoffGrowsWithJitterUpToTheCap) {
    mosquitto_broker broker;
    constexpr int clients = 32;
    constexpr unsigned attempts = 12;
    constexpr auto initial = 8ms;
    constexpr auto cap = 128ms;
    struct seen_attempt {
        unsigned attempt;
        std::chrono::milliseconds retry_in;
        std::chrono::steady_clock::time_point at;
        std::uint16_t port;
    };
    std::vector<std::vector<seen_attempt>> seen(clients);
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        std::vector<std::unique_ptr<client>> fleet;
        for (int i = 0; i < clients; ++i) {
            options o = via(broker.port(), "patient-" + std::to_string(i), true);
            o.reconnect.initial_delay = initial;
            o.reconnect.max_delay = cap;
            fleet.push_back(std::make_unique<client>(io.get_executor(), o));
            fleet.back()->on_connection_event([&seen, i](const connection_event& e) {
                if (e.state == connection_state::reconnecting) {
                    seen[static_cast<std::size_t>(i)].push_back(
                        {e.attempt, e.retry_in, std::chrono::steady_clock::now(), e.broker.port});
                }
            });
            CO_ASSERT(!(co_await fleet.back()->connect()));
        }
        broker.stop(SIGTERM);  // and it stays away: every attempt is refused
        CO_ASSERT(co_await eventually(
            [&] {
                return std::all_of(seen.begin(), seen.end(), [](const auto& s) { return s.size() >= attempts + 1; });
            },
            60s));
    });
    for (const auto& s : seen) ASSERT_GE(s.size(), attempts + 1);
    for (int i = 0; i < clients; ++i) {
        const auto& s = seen[static_cast<std::size_t>(i)];
        for (std::size_t k = 0; k < s.size(); ++k) {
            EXPECT_EQ(s[k].attempt, k + 1) << "client " << i;  // counted from 1, one by one
            EXPECT_EQ(s[k].port, broker.port());
            // The attempt after this one's failure comes after this one's delay at least.
            if (k + 1 < s.size()) {
                EXPECT_GE(s[k + 1].at - s[k].at, s[k].retry_in) << "client " << i << " attempt " << k + 1;
            }
        }
    }
    std::vector<int> at_cap;  // delays drawn at the cap, in ms
    for (unsigned n = 1; n <= attempts; ++n) {
        const auto ceiling = std::min(cap, initial * (1 << std::min(n - 1, 16u)));
        std::chrono::milliseconds largest{-1};
        std::cout << "[ backoff  ] attempt " << n << ", ceiling " << ceiling.count() << " ms:";
        for (const auto& s : seen) {
            const auto d = s[n - 1].retry_in;
            std::cout << " " << d.count();
            EXPECT_GE(d, 0ms);
            EXPECT_LE(d, ceiling) << "attempt " << n;
            largest = std::max(largest, d);
            if (ceiling == cap) at_cap.push_back(static_cast<int>(d.count()));
        }
        std::cout << "\n";
        EXPECT_GT(largest, ceiling / 2) << "attempt " << n << ": the ceiling did not grow to " << ceiling.count() << " ms";
    }
    // Full jitter at the cap: 32 * 8 draws from 0..128 ms fall in every quarter of the range
    // and take many values (a chance of about 10^-31 that a quarter stays empty).
    ASSERT_EQ(at_cap.size(), 32u * 8u);
    constexpr int quarter_ms = static_cast<int>(cap.count()) / 4;
    for (int quarter = 0; quarter < 4; ++quarter) {
        EXPECT_TRUE(std::any_of(at_cap.begin(), at_cap.end(),
                                [&](int d) { return d >= quarter * quarter_ms && d < (quarter + 1) * quarter_ms; }))
            << "no delay in [" << quarter * quarter_ms << ", " << (quarter + 1) * quarter_ms << ") ms";
    }
    EXPECT_GE(std::set<int>(at_cap.begin(), at_cap.end()).size(), 40u);
}

// A publisher goes offline (its proxy refuses it; the broker and a subscriber stay up),
// fills its offline queue and overflows it, then comes back. The subscriber sees which
// messages survived, and in what order [MQTT-4.6.0-2]: with reject_new 0..4 (5 was
// refused), with drop_oldest 1..5 (0 was dropped and told so). A message published after
// the queue has gone out marks the end: nothing queued can arrive after it.
TEST(Resilience, OfflineQueueBoundAndOverflowPolicies) {
    mosquitto_broker broker;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        for (const auto policy : {overflow_policy::reject_new, overflow_policy::drop_oldest}) {
            const std::string topic = policy == overflow_policy::reject_new ? "q/reject" : "q/drop";
            auto got = std::make_shared<std::vector<std::string>>();
            client sub(io.get_executor(), via(broker.port(), "queued-sub", true));
            CO_ASSERT(!(co_await sub.connect()));
            // Made outside the co_await: GCC 12 destroys a temporary lambda in one twice.
            subscription to_topic{topic, qos::at_least_once, [got](const message& m) { got->emplace_back(m.text()); }};
            CO_ASSERT(!(co_await sub.subscribe(std::move(to_topic))).ec);

            tcp_proxy proxy(io, broker.port());
            options o = via(proxy.port(), "queued", true);
            o.offline_queue_limit = 5;
            o.overflow = policy;
            client c(io.get_executor(), o);
            CO_ASSERT(!(co_await c.connect()));
            proxy.refuse(true);
            CO_ASSERT(co_await eventually([&] { return !c.is_connected(); }));
            std::error_code first_result;
            bool first_done = false;
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    first_result = co_await c.publish(topic, "0", qos::at_least_once, wait::ack);
                    first_done = true;
                },
                asio::detached);
            for (int i = 1; i < 5; ++i) {
                CO_ASSERT(!(co_await c.publish(topic, std::to_string(i), qos::at_least_once, wait::none)));
            }
            EXPECT_EQ(c.queued(), 5u);
            const auto sixth = co_await c.publish(topic, "5", qos::at_least_once, wait::none);
            if (policy == overflow_policy::reject_new) {
                EXPECT_EQ(sixth, errc::queue_full);  // refused at once, nothing silently lost
                EXPECT_FALSE(first_done);
            } else {
                EXPECT_FALSE(sixth);
                CO_ASSERT(co_await eventually([&] { return first_done; }));
                EXPECT_EQ(first_result, errc::message_dropped);  // the oldest is told
            }
            EXPECT_EQ(c.queued(), 5u);
            EXPECT_TRUE(got->empty());  // nothing got through while offline
            proxy.refuse(false);
            CO_ASSERT(co_await eventually([&] { return c.queued() == 0 && c.in_flight() == 0; }, 20s));
            if (policy == overflow_policy::reject_new) {
                CO_ASSERT(co_await eventually([&] { return first_done; }));
                EXPECT_FALSE(first_result);
            }
            CO_ASSERT(!(co_await c.publish(topic, "end", qos::at_least_once, wait::ack)));
            CO_ASSERT(co_await eventually([&] { return !got->empty() && got->back() == "end"; }, 20s));
            const std::vector<std::string> expected =
                policy == overflow_policy::reject_new ? std::vector<std::string>{"0", "1", "2", "3", "4", "end"}
                                                      : std::vector<std::string>{"1", "2", "3", "4", "5", "end"};
            EXPECT_EQ(*got, expected);
            EXPECT_FALSE(co_await c.disconnect());
            EXPECT_FALSE(co_await sub.disconnect());
        }
    });
}

}  // namespace
}  // namespace tether::client
