// The durable outbox through the client (options::persistence, docs/PERSISTENCE.md):
// what a client accepted and could not deliver is sent by the next one with the same id
// and directory, first and in order; acknowledged messages leave the journal; a directory
// of another client id, a full disk and a read-only disk are clear errors, never a loss.
// The crash test (SIGKILL at random points) is persistence_crash_test.cpp.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../support/broker.hpp"
#include "../support/coro_test.hpp"
#include "../support/loopback.hpp"
#include "../support/proxy.hpp"
#include "scripted_server.hpp"
#include "journal.hpp"
#include "journal_error.hpp"
#include "tether/client/client.hpp"

namespace tether::client {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::mosquitto_broker;
using test::run_coro;

const test::broker_options unlimited_inflight{.extra_config = "max_inflight_messages 0"};

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tether-persist-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

// A tmpfs of `size` at `dir`, unmounted at the end; the test is skipped where mounting is
// refused (no CAP_SYS_ADMIN).
struct tmpfs {
    std::string dir;
    bool mounted = false;
    tmpfs(std::string d, const char* size, unsigned long flags = 0) : dir(std::move(d)) {
        mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", flags, size) == 0;
    }
    ~tmpfs() {
        if (mounted) ::umount2(dir.c_str(), MNT_DETACH);
    }
};

options persisted(std::uint16_t port, const std::string& id, const std::filesystem::path& dir) {
    options o = test::loopback(port, id);
    o.clean_session = false;
    o.keep_alive_s = 5;
    o.reconnect.initial_delay = 10ms;
    o.reconnect.max_delay = 100ms;
    o.connect_timeout = 2s;
    o.persistence.directory = dir.string();
    return o;
}

// What the journal in `dir` holds for `id` (read after the client that wrote it is gone).
detail::journal_recovery read_journal(const std::filesystem::path& dir, const std::string& id) {
    detail::journal j;
    detail::journal_recovery rec;
    EXPECT_FALSE(j.open(dir.string(), id, detail::durability::process_crash, rec));
    return rec;
}

std::string text(const detail::recovered_message& m) { return {m.payload.begin(), m.payload.end()}; }

TEST(Persistence, WhatOneClientCouldNotDeliverTheNextSendsFirstInOrder) {
    mosquitto_broker broker(unlimited_inflight);
    temp_dir dir;
    std::vector<std::string> seen;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        {
            // The first client's link goes silent: two messages enter the window (packet ids
            // journaled), three wait in the queue behind them; then the client is gone.
            test::tcp_proxy proxy(io, broker.port());
            options o = persisted(proxy.port(), "outbox", dir.path);
            o.window = 2;
            client first(io.get_executor(), o);
            CO_ASSERT(!co_await first.connect());
            proxy.silence();
            for (int i = 1; i <= 5; ++i) {
                const std::string payload = "old-" + std::to_string(i);
                const qos q = i % 2 == 1 ? qos::at_least_once : qos::exactly_once;
                CO_ASSERT(!first.publish_now("outbox/t", payload, q));
            }
            CO_ASSERT(first.in_flight() == 2u);
            CO_ASSERT(first.queued() == 3u);
        }
        client sub(io.get_executor(), persisted(broker.port(), "outbox-sub", dir.path / "sub"));
        CO_ASSERT(!co_await sub.connect());
        subscription s("outbox/#", qos::exactly_once, [&](const message& m) {
            seen.push_back(std::string(m.qos == qos::exactly_once ? "2:" : "1:") + std::string(m.text()));
        });
        CO_ASSERT(!(co_await sub.subscribe(std::move(s))).ec);

        client second(io.get_executor(), persisted(broker.port(), "outbox", dir.path));
        CO_ASSERT(!co_await second.connect());
        for (int i = 1; i <= 3; ++i) {
            const std::string payload = "new-" + std::to_string(i);
            const qos q = i % 2 == 1 ? qos::at_least_once : qos::exactly_once;
            CO_ASSERT(!co_await second.publish("outbox/t", payload, q, wait::ack));
        }
        CO_ASSERT(co_await eventually([&] { return seen.size() >= 8; }));
        CO_ASSERT(!co_await second.disconnect());
        CO_ASSERT(!co_await sub.disconnect());
    });
    // In order per QoS: mosquitto passes a QoS 2 message on at PUBREL, so it may overtake
    // or trail QoS 1 ones; MQTT 3.1.1 (4.6) orders the messages of one QoS, not across them.
    std::vector<std::string> q1, q2;
    for (const auto& s : seen) (s[0] == '1' ? q1 : q2).push_back(s.substr(2));
    EXPECT_EQ(q1, (std::vector<std::string>{"old-1", "old-3", "old-5", "new-1", "new-3"}));
    EXPECT_EQ(q2, (std::vector<std::string>{"old-2", "old-4", "new-2"}));
    // Every one acknowledged: the journal holds nothing more.
    EXPECT_TRUE(read_journal(dir.path, "outbox").outbound.empty());
}

TEST(Persistence, AReceivedQos2MessageIsNotDeliveredAgainAfterARestart) {
    mosquitto_broker broker(unlimited_inflight);
    temp_dir dir;
    int delivered = 0;
    bool end = false;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client pub(io.get_executor(), test::loopback(broker.port(), "once-pub"));
        CO_ASSERT(!co_await pub.connect());
        {
            // The first subscriber gets the message, and its PUBREC never reaches the
            // broker: the link goes silent in the handler. Then the client is gone.
            test::tcp_proxy proxy(io, broker.port());
            client first(io.get_executor(), persisted(proxy.port(), "once-sub", dir.path));
            CO_ASSERT(!co_await first.connect());
            subscription s("once/#", qos::exactly_once, [&](const message& m) {
                if (m.topic == "once/m") ++delivered;
                proxy.silence();
            });
            CO_ASSERT(!(co_await first.subscribe(std::move(s))).ec);
            CO_ASSERT(!co_await pub.publish("once/m", "m", qos::exactly_once, wait::ack));
            CO_ASSERT(co_await eventually([&] { return delivered == 1; }));
        }
        // The second, with the same id and directory: the broker sends the message again
        // (DUP, same packet id); the journal held that id, so it is answered, not delivered.
        client second(io.get_executor(), persisted(broker.port(), "once-sub", dir.path));
        subscription s("once/#", qos::exactly_once, [&](const message& m) {
            if (m.topic == "once/m") ++delivered;
            if (m.topic == "once/end") end = true;
        });
        CO_ASSERT(!(co_await second.subscribe(std::move(s), wait::none)).ec);
        CO_ASSERT(!co_await second.connect());
        CO_ASSERT(!co_await pub.publish("once/end", "end", qos::exactly_once, wait::ack));
        CO_ASSERT(co_await eventually([&] { return end; }));
        CO_ASSERT(!co_await second.disconnect());
    });
    EXPECT_EQ(delivered, 1);
}

// (b) of the review after the durable outbox: a received QoS 2 message the application
// took, whose PUBREC waits behind an earlier message's deferred acknowledgement, had its id
// journaled only when the PUBREC went. A crash in between (here: the client gone) and the
// broker's copy was delivered again. Its id is now held as the application takes it.
TEST(Persistence, AQos2MessageTakenBehindADeferredAckIsNotDeliveredAgainAfterARestart) {
    mosquitto_broker broker(unlimited_inflight);
    temp_dir dir;
    std::map<std::string, int> delivered;
    deferred_ack never_accepted;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client pub(io.get_executor(), test::loopback(broker.port(), "behind-pub"));
        CO_ASSERT(!co_await pub.connect());
        {
            client first(io.get_executor(), persisted(broker.port(), "behind-sub", dir.path));
            CO_ASSERT(!co_await first.connect());
            subscription s("behind/#", qos::exactly_once, [&](const message& m) {
                ++delivered[std::string(m.topic)];
                if (m.topic == "behind/1") never_accepted = m.defer_ack();  // its PUBREC waits
            });
            CO_ASSERT(!(co_await first.subscribe(std::move(s))).ec);
            CO_ASSERT(!co_await pub.publish("behind/1", "1", qos::exactly_once, wait::ack));
            CO_ASSERT(!co_await pub.publish("behind/2", "2", qos::exactly_once, wait::ack));
            // behind/2 is taken (its handler returned), its PUBREC held behind behind/1's.
            CO_ASSERT(co_await eventually([&] { return delivered["behind/2"] == 1; }));
            CO_ASSERT(static_cast<bool>(never_accepted));
        }
        // The broker sends both again (DUP, same ids): behind/1, never accepted, is delivered
        // again; behind/2 was taken, so it is only answered.
        bool end = false;
        client second(io.get_executor(), persisted(broker.port(), "behind-sub", dir.path));
        subscription s("behind/#", qos::exactly_once, [&](const message& m) {
            ++delivered[std::string(m.topic)];
            if (m.topic == "behind/end") end = true;
        });
        CO_ASSERT(!(co_await second.subscribe(std::move(s), wait::none)).ec);
        CO_ASSERT(!co_await second.connect());
        CO_ASSERT(!co_await pub.publish("behind/end", "end", qos::exactly_once, wait::ack));
        CO_ASSERT(co_await eventually([&] { return end; }));
        CO_ASSERT(!co_await second.disconnect());
    });
    EXPECT_EQ(delivered["behind/1"], 2);
    EXPECT_EQ(delivered["behind/2"], 1);
}

// (a) of the review after the durable outbox, through the client: after a restart into a
// smaller window, m2 and m3 wait in the queue with the ids they had (2, 3) still bound in
// the journal; a SUBSCRIBE takes id 2, so m2 goes with id 3 and gets PUBREC. Before the
// fix the journal refused m2's bind (3 was m3's) and marked m3 past PUBREC: a crash then,
// and the next run sent m3 as a PUBREL only — lost.
TEST(Persistence, APubrecIsJournaledForItsOwnMessageWhenAQueuedOneStillHasTheId) {
    temp_dir dir;
    std::vector<std::uint16_t> first_ids, second_ids;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        test::scripted_server server(io);
        server.ack_publishes_at_ping = true;  // nothing is acknowledged unless the test pings
        server.pubcomp_from = 99;             // and no PUBREL is ever completed
        {
            options o = test::persistent_to(server.port(), "stale");
            o.persistence.directory = dir.path.string();
            o.window = 3;
            client c(io.get_executor(), o);
            CO_ASSERT(!co_await c.connect());
            CO_ASSERT(!c.publish_now("s/t", "m1", qos::at_least_once));
            CO_ASSERT(!c.publish_now("s/t", "m2", qos::exactly_once));
            CO_ASSERT(!c.publish_now("s/t", "m3", qos::exactly_once));
            CO_ASSERT(co_await eventually([&] { return server.ids(1, test::publish_type).size() == 3; }));
        }
        first_ids = server.ids(1, test::publish_type);
        options o = test::persistent_to(server.port(), "stale");
        o.persistence.directory = dir.path.string();
        o.window = 1;  // m1 goes back into the window; m2 and m3 to the queue
        client c(io.get_executor(), o);
        CO_ASSERT(!co_await c.connect());
        subscription sub("s/other", qos::at_least_once);
        CO_ASSERT(!(co_await c.subscribe(std::move(sub))).ec);
        CO_ASSERT(!co_await c.ping());  // m1's PUBACK: m2 goes
        CO_ASSERT(co_await eventually([&] { return server.ids(2, test::publish_type).size() == 2; }));
        CO_ASSERT(!co_await c.ping());  // m2's PUBREC: PUBREL goes, and PUBCOMP never comes
        CO_ASSERT(co_await eventually([&] { return !server.ids(2, test::pubrel).empty(); }));
        second_ids = server.ids(2, test::publish_type);
    });  // the client is gone with m2 past PUBREC and m3 never sent
    ASSERT_EQ(first_ids.size(), 3u);
    ASSERT_EQ(second_ids.size(), 2u);
    ASSERT_EQ(second_ids[1], first_ids[2]) << "m2 did not go with m3's old id: the case is not made";
    const auto rec = read_journal(dir.path, "stale");
    ASSERT_EQ(rec.outbound.size(), 2u);
    EXPECT_EQ(text(rec.outbound[0]), "m2");
    EXPECT_EQ(rec.outbound[0].packet_id, second_ids[1]);
    EXPECT_TRUE(rec.outbound[0].released);  // its PUBREL goes again
    EXPECT_EQ(text(rec.outbound[1]), "m3");
    EXPECT_FALSE(rec.outbound[1].released);  // a PUBLISH still to send
    EXPECT_EQ(rec.outbound[1].packet_id, 0);
}

TEST(Persistence, AcceptedMessagesAreJournaledBeforePublishReturnsAndQos0IsNot) {
    mosquitto_broker broker(unlimited_inflight);
    temp_dir dir;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), persisted(broker.port(), "accepted", dir.path));
        CO_ASSERT(!co_await c.connect());
        broker.stop();  // nothing is acknowledged from here on
        CO_ASSERT(co_await eventually([&] { return !c.is_connected(); }));
        CO_ASSERT(!c.publish_now("a/b", "zero", qos::at_most_once));
        CO_ASSERT(!c.publish_now("a/b", "one", qos::at_least_once, true));
        CO_ASSERT(!co_await c.publish("a/c", "two", qos::exactly_once, wait::none));
    });
    const auto rec = read_journal(dir.path, "accepted");
    ASSERT_EQ(rec.outbound.size(), 2u);
    EXPECT_EQ(text(rec.outbound[0]), "one");
    EXPECT_EQ(rec.outbound[0].topic, "a/b");
    EXPECT_TRUE(rec.outbound[0].retain);
    EXPECT_EQ(rec.outbound[0].qos, qos::at_least_once);
    EXPECT_EQ(text(rec.outbound[1]), "two");
    EXPECT_EQ(rec.outbound[1].qos, qos::exactly_once);
}

TEST(Persistence, ADroppedMessageLeavesTheJournalAndIsNeverSent) {
    mosquitto_broker broker(unlimited_inflight);
    temp_dir dir;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o = persisted(broker.port(), "dropper", dir.path);
        o.offline_queue_limit = 2;
        o.overflow = overflow_policy::drop_oldest;
        client c(io.get_executor(), o);
        CO_ASSERT(!co_await c.connect());
        broker.stop();
        CO_ASSERT(co_await eventually([&] { return !c.is_connected(); }));
        for (const char* p : {"m1", "m2", "m3"}) CO_ASSERT(!c.publish_now("a/b", p, qos::at_least_once));
    });
    const auto rec = read_journal(dir.path, "dropper");
    ASSERT_EQ(rec.outbound.size(), 2u);
    EXPECT_EQ(text(rec.outbound[0]), "m2");
    EXPECT_EQ(text(rec.outbound[1]), "m3");
}

TEST(Persistence, ADirectoryOfAnotherClientOrInUseIsRefused) {
    mosquitto_broker broker(unlimited_inflight);
    temp_dir dir;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client owner(io.get_executor(), persisted(broker.port(), "owner", dir.path));
        CO_ASSERT(!co_await owner.connect());
        // The same id and directory while the first holds it: refused, not shared.
        client twin(io.get_executor(), persisted(broker.port(), "owner", dir.path));
        const std::error_code in_use = co_await twin.connect();
        EXPECT_EQ(in_use, detail::make_error_code(detail::journal_errc::in_use)) << in_use.message();
        CO_ASSERT(!co_await owner.disconnect());

        client other(io.get_executor(), persisted(broker.port(), "intruder", dir.path));
        const std::error_code ec = co_await other.connect();
        EXPECT_EQ(ec, detail::make_error_code(detail::journal_errc::other_client)) << ec.message();
        EXPECT_FALSE(other.is_connected());

        options no_id = persisted(broker.port(), "", dir.path);
        no_id.clean_session = true;
        client anonymous(io.get_executor(), no_id);
        EXPECT_EQ(co_await anonymous.connect(), make_error_code(errc::invalid_argument));
    });
}

TEST(Persistence, AFullDiskRefusesThePublishAndKeepsEveryAcceptedMessage) {
    mosquitto_broker broker(unlimited_inflight);
    temp_dir dir;
    tmpfs disk(dir.path.string(), "size=64k");
    if (!disk.mounted) GTEST_SKIP() << "mounting a tmpfs is not permitted here: " << std::strerror(errno);
    std::size_t accepted = 0;
    std::error_code refused;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), persisted(broker.port(), "full", dir.path));
        CO_ASSERT(!co_await c.connect());
        broker.stop();
        CO_ASSERT(co_await eventually([&] { return !c.is_connected(); }));
        const std::string payload(4000, 'x');
        for (int i = 0; i < 100 && !refused; ++i) {
            refused = co_await c.publish("full/t", payload, qos::at_least_once, wait::none);
            if (!refused) ++accepted;
        }
        // QoS 0 is not journaled, and goes on being accepted.
        EXPECT_FALSE(c.publish_now("full/t", "q0", qos::at_most_once));
    });
    EXPECT_EQ(refused, std::errc::no_space_on_device) << refused.message();
    EXPECT_GT(accepted, 0u);
    EXPECT_EQ(read_journal(dir.path, "full").outbound.size(), accepted);
}

TEST(Persistence, AReadOnlyDiskIsAClearErrorAtConnect) {
    mosquitto_broker broker(unlimited_inflight);
    temp_dir dir;
    tmpfs disk(dir.path.string(), "size=64k", MS_RDONLY);
    if (!disk.mounted) GTEST_SKIP() << "mounting a tmpfs is not permitted here: " << std::strerror(errno);
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client c(io.get_executor(), persisted(broker.port(), "ro", dir.path / "outbox"));
        const std::error_code ec = co_await c.connect();
        EXPECT_EQ(ec, std::errc::read_only_file_system) << ec.message();
        EXPECT_FALSE(c.is_connected());
        EXPECT_EQ(c.publish_now("a/b", "x", qos::at_least_once), make_error_code(errc::not_connected));
    });
}

TEST(Persistence, PowerLossLevelSyncsConcurrentPublishesTogether) {
    mosquitto_broker broker(unlimited_inflight);
    temp_dir dir;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        options o = persisted(broker.port(), "synced", dir.path);
        o.persistence.level = durability::power_loss;
        client c(io.get_executor(), o);
        CO_ASSERT(!co_await c.connect());
        broker.stop();
        CO_ASSERT(co_await eventually([&] { return !c.is_connected(); }));
        int done = 0;
        std::error_code first_error;
        for (int i = 0; i < 20; ++i) {
            asio::co_spawn(
                io,
                [&, i]() -> asio::awaitable<void> {
                    const std::string payload = "p" + std::to_string(i);
                    const auto ec = co_await c.publish("sync/t", payload, qos::at_least_once, wait::none);
                    if (ec && !first_error) first_error = ec;
                    ++done;
                },
                asio::detached);
        }
        CO_ASSERT(co_await eventually([&] { return done == 20; }));
        EXPECT_FALSE(first_error) << first_error.message();
        EXPECT_FALSE(c.publish_now("sync/t", "plain", qos::exactly_once));
    });
    EXPECT_EQ(read_journal(dir.path, "synced").outbound.size(), 21u);
}

}  // namespace
}  // namespace tether::client
