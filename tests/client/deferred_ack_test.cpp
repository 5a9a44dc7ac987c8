// Acknowledgements a handler takes over (message::defer_ack), against a scripted server
// that speaks raw MQTT and records every packet the client sends, in order. The barrier is
// ping(): when it returns, the server has read the PINGREQ and so everything written before
// it, so "no PUBACK yet" is a fact about the bytes, not a guess about time.

#include <gtest/gtest.h>

#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <memory>
#include <string>
#include <vector>

#include "../support/broker.hpp"
#include "../support/coro_test.hpp"
#include "../support/loopback.hpp"
#include "scripted_server.hpp"
#include "tether/client/client.hpp"
#include "use_tuple.hpp"

namespace tether::client {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::run_coro;
using test::scripted_server;
using test::puback;
using test::pubrec;
using test::pubcomp;

options persistent(std::uint16_t port) { return test::persistent_to(port, "acker"); }

// What a handler saw: the payload, dup, and the connection it came on.
struct delivery {
    std::string payload;
    bool dup;
    std::uint64_t connection;
};

// (A const char* and a named handler: GCC 12 mishandles std::string and lambda temporaries
// inside co_await expressions.)
asio::awaitable<bool> subscribe_to(client& c, const char* filter, qos q, message_handler h, wait how = wait::ack) {
    subscription s(filter, q, std::move(h));
    const auto r = co_await c.subscribe(std::move(s), how);
    co_return !r.ec;
}

TEST(DeferredAck, NoAcknowledgementBeforeAcceptAndAllInTheOrderTheMessagesCame) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        client c(io.get_executor(), persistent(server.port()));
        std::vector<deferred_ack> tokens;
        CO_ASSERT(!(co_await c.connect()));
        message_handler h = [&](const message& m) {
            tokens.push_back(m.defer_ack());
        };
        CO_ASSERT(co_await subscribe_to(c, "t/#", qos::at_least_once, std::move(h)));
        server.publish("t/a", "1", 1, 1);
        server.publish("t/a", "2", 1, 2);
        server.publish("t/a", "3", 1, 3);
        CO_ASSERT(co_await eventually([&] { return tokens.size() == 3; }));
        for (const auto& t : tokens) EXPECT_TRUE(t);
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_TRUE(server.ids(1, puback).empty());

        // The last accepted first: held behind the two before it.
        EXPECT_FALSE(tokens[2].accept());
        EXPECT_FALSE(tokens[2]);
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_TRUE(server.ids(1, puback).empty());

        EXPECT_FALSE(tokens[0].accept());
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_EQ(server.ids(1, puback), (std::vector<std::uint16_t>{1}));

        EXPECT_FALSE(tokens[1].accept());
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_EQ(server.ids(1, puback), (std::vector<std::uint16_t>{1, 2, 3}));
        EXPECT_EQ(server.connections, 1);
    });
}

TEST(DeferredAck, AnAcknowledgementNotDeferredWaitsBehindADeferredOne) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        client c(io.get_executor(), persistent(server.port()));
        deferred_ack held;
        int delivered = 0;
        CO_ASSERT(!(co_await c.connect()));
        message_handler h = [&](const message& m) {
            ++delivered;
            if (m.text() == "hold") held = m.defer_ack();
        };
        CO_ASSERT(co_await subscribe_to(c, "t", qos::at_least_once, std::move(h)));
        server.publish("t", "hold", 1, 10);
        server.publish("t", "go", 1, 11);
        server.publish("t", "go", 1, 12);
        CO_ASSERT(co_await eventually([&] { return delivered == 3; }));
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_TRUE(server.ids(1, puback).empty());
        EXPECT_FALSE(held.accept());
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_EQ(server.ids(1, puback), (std::vector<std::uint16_t>{10, 11, 12}));
    });
}

TEST(DeferredAck, Qos2PubrecWaitsForAcceptAndADuplicateIsNotAnsweredBeforeIt) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        client c(io.get_executor(), persistent(server.port()));
        std::vector<deferred_ack> tokens;
        CO_ASSERT(!(co_await c.connect()));
        message_handler h = [&](const message& m) {
            tokens.push_back(m.defer_ack());
        };
        CO_ASSERT(co_await subscribe_to(c, "t", qos::exactly_once, std::move(h)));
        server.publish("t", "x", 2, 7);
        CO_ASSERT(co_await eventually([&] { return tokens.size() == 1; }));
        // The same PUBLISH again (DUP set, as a server sends it again) on this connection: a
        // PUBREC for it now would tell the server the message is taken before the handler
        // said so.
        server.publish("t", "x", 2, 7, true);
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_TRUE(server.ids(1, pubrec).empty());
        EXPECT_EQ(tokens.size(), 1u);  // exactly once
        EXPECT_FALSE(tokens[0].accept());
        CO_ASSERT(co_await eventually([&] { return !server.ids(1, pubcomp).empty(); }));
        EXPECT_EQ(server.ids(1, pubrec), (std::vector<std::uint16_t>{7}));
        EXPECT_EQ(server.ids(1, pubcomp), (std::vector<std::uint16_t>{7}));
    });
}

// reject() (QoS 2) or a token destroyed un-accepted (QoS 1): the connection closes, and the
// server's copy on the next connection of the persistent session reaches the handler again.
void rejected_message_comes_again(int q, bool by_destroying) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        client c(io.get_executor(), persistent(server.port()));
        std::vector<delivery> seen;
        std::error_code why;
        c.on_connection_event([&](const connection_event& e) {
            if (e.state == connection_state::disconnected) why = e.reason;
        });
        CO_ASSERT(!(co_await c.connect()));
        message_handler h = [&](const message& m) {
            seen.push_back({std::string(m.text()), m.dup, c.stats().connections});
            deferred_ack ack = m.defer_ack();
            if (seen.size() == 1) {
                if (!by_destroying) ack.reject();
                return;  // destroyed un-accepted
            }
            EXPECT_FALSE(ack.accept());
        };
        CO_ASSERT(co_await subscribe_to(c, "t", static_cast<qos>(q), std::move(h)));
        server.publish("t", "work", q, 5);
        CO_ASSERT(co_await eventually([&] { return seen.size() == 2; }));
        EXPECT_EQ(why, make_error_code(errc::message_rejected));
        EXPECT_FALSE(seen[0].dup);
        EXPECT_TRUE(seen[1].dup);
        EXPECT_EQ(seen[0].connection, 1u);
        EXPECT_EQ(seen[1].connection, 2u);
        CO_ASSERT(!(co_await c.ping()));
        const std::uint8_t ack_type = q == 1 ? puback : pubrec;
        EXPECT_TRUE(server.ids(1, ack_type).empty());
        EXPECT_EQ(server.ids(2, ack_type), (std::vector<std::uint16_t>{5}));
        EXPECT_EQ(seen.size(), 2u);
    });
}

TEST(DeferredAck, ATokenDestroyedUnacceptedGetsTheMessageSentAgainQos1) { rejected_message_comes_again(1, true); }
TEST(DeferredAck, ARejectedQos2MessageIsDeliveredAgainAfterTheReconnect) { rejected_message_comes_again(2, false); }

TEST(DeferredAck, ATokenFromAnEndedConnectionIsInertAndTheMessageComesAgain) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        client c(io.get_executor(), persistent(server.port()));
        std::vector<deferred_ack> tokens;
        std::vector<delivery> seen;
        CO_ASSERT(!(co_await c.connect()));
        message_handler h = [&](const message& m) {
            seen.push_back({std::string(m.text()), m.dup, c.stats().connections});
            tokens.push_back(m.defer_ack());
        };
        CO_ASSERT(co_await subscribe_to(c, "t", qos::exactly_once, std::move(h)));
        server.publish("t", "work", 2, 9);
        CO_ASSERT(co_await eventually([&] { return tokens.size() == 1; }));
        server.close();  // the link drops with the PUBREC withheld
        CO_ASSERT(co_await eventually([&] { return tokens.size() == 2; }));
        EXPECT_EQ(seen[1].connection, 2u);
        EXPECT_TRUE(seen[1].dup);
        // The old token: the connection it came on is gone.
        EXPECT_EQ(tokens[0].accept(), make_error_code(errc::connection_lost));
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_TRUE(server.ids(2, pubrec).empty());
        EXPECT_FALSE(tokens[1].accept());
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_EQ(server.ids(2, pubrec), (std::vector<std::uint16_t>{9}));
        EXPECT_EQ(server.connections, 2);
    });
}

TEST(DeferredAck, PastTheLimitTheConnectionClosesAndTheMessagesComeAgain) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        options o = persistent(server.port());
        o.max_pending_acks = 3;
        client c(io.get_executor(), o);
        std::vector<deferred_ack> kept;  // never accepted, on the first connection
        std::vector<delivery> seen;
        std::error_code why;
        c.on_connection_event([&](const connection_event& e) {
            if (e.state == connection_state::disconnected) why = e.reason;
        });
        CO_ASSERT(!(co_await c.connect()));
        message_handler h = [&](const message& m) {
            seen.push_back({std::string(m.text()), m.dup, c.stats().connections});
            if (c.stats().connections == 1) kept.push_back(m.defer_ack());
        };
        CO_ASSERT(co_await subscribe_to(c, "t", qos::at_least_once, std::move(h)));
        for (std::uint16_t id = 1; id <= 4; ++id) server.publish("t", std::to_string(id), 1, id);
        CO_ASSERT(co_await eventually([&] { return server.ids(2, puback).size() == 4; }));
        EXPECT_EQ(why, make_error_code(errc::too_many_pending_acks));
        // Three waited on the first connection; the fourth was not delivered on it.
        std::vector<std::string> first;
        for (const auto& d : seen) {
            if (d.connection == 1) first.push_back(d.payload);
        }
        EXPECT_EQ(first, (std::vector<std::string>{"1", "2", "3"}));
        EXPECT_TRUE(server.ids(1, puback).empty());
        EXPECT_EQ(server.ids(2, puback), (std::vector<std::uint16_t>{1, 2, 3, 4}));
        for (auto& k : kept) EXPECT_EQ(k.accept(), make_error_code(errc::connection_lost));
    });
}

// At QoS 2 the session holds a message's id before the limit refuses to deliver it: the id
// is forgotten, so the server's copy on the next connection (DUP set) is delivered, not
// only answered PUBREC and lost.
TEST(DeferredAck, PastTheLimitAQos2MessageIsDeliveredWhenSentAgain) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        options o = persistent(server.port());
        o.max_pending_acks = 1;
        client c(io.get_executor(), o);
        std::vector<deferred_ack> kept;  // never accepted, on the first connection
        std::vector<delivery> seen;
        CO_ASSERT(!(co_await c.connect()));
        message_handler h = [&](const message& m) {
            seen.push_back({std::string(m.text()), m.dup, c.stats().connections});
            if (c.stats().connections == 1) kept.push_back(m.defer_ack());
        };
        CO_ASSERT(co_await subscribe_to(c, "t", qos::exactly_once, std::move(h)));
        server.publish("t", "1", 2, 1);
        server.publish("t", "2", 2, 2);
        CO_ASSERT(co_await eventually([&] { return server.ids(2, pubrec).size() == 2; }));
        std::vector<std::string> second;
        for (const auto& d : seen) {
            if (d.connection == 2) second.push_back(d.payload);
        }
        EXPECT_EQ(second, (std::vector<std::string>{"1", "2"}));
        EXPECT_TRUE(server.ids(1, pubrec).empty());
    });
}

// Group commit: an asynchronous handler parks its token; when a batch is full it commits
// (here: a turn of the executor) and accepts the batch.
TEST(DeferredAck, AsynchronousHandlersAcceptABatchAfterItCommits) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        client c(io.get_executor(), persistent(server.port()));
        CO_ASSERT(!(co_await c.connect()));
        std::vector<deferred_ack> batch;
        int late_tokens = 0, commits = 0;
        auto handler = [&](const message& m) -> asio::awaitable<void> {
            batch.push_back(m.defer_ack());
            auto ex = co_await asio::this_coro::executor;
            co_await asio::post(ex, asio::use_awaitable);
            if (m.defer_ack()) ++late_tokens;  // too late: after the first suspension
            if (batch.size() == 3) {
                ++commits;
                for (auto& a : batch) EXPECT_FALSE(a.accept());
                batch.clear();
            }
        };
        subscription s("t", qos::at_least_once, handler);
        CO_ASSERT(!(co_await c.subscribe(std::move(s))).ec);
        server.publish("t", "1", 1, 21);
        server.publish("t", "2", 1, 22);
        CO_ASSERT(co_await eventually([&] { return batch.size() == 2; }));
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_TRUE(server.ids(1, puback).empty());
        server.publish("t", "3", 1, 23);
        CO_ASSERT(co_await eventually([&] { return commits == 1; }));
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_EQ(server.ids(1, puback), (std::vector<std::uint16_t>{21, 22, 23}));
        EXPECT_EQ(late_tokens, 0);
    });
}

TEST(DeferredAck, Qos0GivesAnEmptyTokenThatChangesNothing) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        scripted_server server(io);
        client c(io.get_executor(), persistent(server.port()));
        std::vector<deferred_ack> tokens;
        CO_ASSERT(!(co_await c.connect()));
        message_handler h = [&](const message& m) {
            tokens.push_back(m.defer_ack());
        };
        CO_ASSERT(co_await subscribe_to(c, "t", qos::at_least_once, std::move(h)));
        server.publish("t", "zero", 0, 0);
        CO_ASSERT(co_await eventually([&] { return tokens.size() == 1; }));
        EXPECT_FALSE(tokens[0]);
        EXPECT_FALSE(tokens[0].accept());
        tokens.clear();  // destroying it closes nothing
        CO_ASSERT(!(co_await c.ping()));
        EXPECT_EQ(server.connections, 1);
    });
}

// The same with a real broker: mosquitto sends a rejected QoS 1 message again on the next
// connection of the persistent session.
TEST(DeferredAck, MosquittoSendsARejectedMessageAgain) {
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        test::mosquitto_broker broker({.extra_config = "max_inflight_messages 0\n"});
        client sub(io.get_executor(), persistent(broker.port()));
        client pub(io.get_executor(), test::loopback(broker.port(), "pub"));
        std::vector<delivery> seen;
        CO_ASSERT(!(co_await sub.connect()));
        CO_ASSERT(!(co_await pub.connect()));
        message_handler h = [&](const message& m) {
            seen.push_back({std::string(m.text()), m.dup, sub.stats().connections});
            deferred_ack ack = m.defer_ack();
            if (seen.size() == 1) ack.reject();
            else EXPECT_FALSE(ack.accept());
        };
        CO_ASSERT(co_await subscribe_to(sub, "t", qos::at_least_once, std::move(h)));
        CO_ASSERT(!(co_await pub.publish("t", "work", qos::at_least_once, wait::ack)));
        CO_ASSERT(co_await eventually([&] { return seen.size() == 2; }));
        EXPECT_EQ(seen[1].payload, "work");
        EXPECT_TRUE(seen[1].dup);
        EXPECT_EQ(seen[1].connection, 2u);
        // Accepted on the second connection: a third connection gets nothing again.
        CO_ASSERT(!(co_await sub.ping()));
        CO_ASSERT(!(co_await sub.disconnect()));
        client again(io.get_executor(), persistent(broker.port()));
        int more = 0;
        message_handler count = [&](const message&) { ++more; };
        CO_ASSERT(co_await subscribe_to(again, "t", qos::at_least_once, std::move(count), wait::none));
        CO_ASSERT(!(co_await again.connect()));
        CO_ASSERT(!(co_await again.ping()));
        EXPECT_EQ(more, 0);
        EXPECT_EQ(seen.size(), 2u);
    });
}

}  // namespace
}  // namespace tether::client
