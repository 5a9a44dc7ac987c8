// tether sub: subscribe and print what arrives, like mosquitto_sub 2.0.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <random>

#include "commands.hpp"
#include "exit_status.hpp"
#include "sub_format.hpp"
#include "tether/client/client.hpp"
#include "tether/core/topic.hpp"

namespace tether::tools {

namespace {

constexpr int timed_out_status = 27;  // as mosquitto_sub -W (MOSQ_ERR_TIMEOUT)

// Lives in run_sub() for as long as the io_context runs; the coroutines share it.
struct sub_state {
    long printed = 0;      // messages counted towards -C
    bool subscribed = false;
    bool unsubscribed = false;
    bool done = false;
    int status = 0;
    std::string out, err;  // reused for every message
    std::mt19937 random{std::random_device{}()};
};

// DISCONNECT (once what --remove-retained published is acknowledged), then the end.
asio::awaitable<void> wind_down(client::client& c, asio::io_context& io) {
    (void)co_await c.disconnect(std::chrono::seconds(5));
    io.stop();
}

asio::awaitable<void> finish(client::client& c, sub_state& st, asio::io_context& io, int status) {
    if (st.done) co_return;
    st.done = true;
    st.status = status;
    co_await wind_down(c, io);
}

// finish() from a message handler or a callback: nothing more is printed from now on, and
// the DISCONNECT waits until the handler has returned. Started at once (co_spawn runs it
// inline here), it would go out before the PUBACK of the message being handled, which
// the client sends when its handlers return: a persistent session would get that message
// again on its next connection (mosquitto_sub acknowledges it first).
void spawn_finish(client::client& c, sub_state& st, asio::io_context& io, int status) {
    if (st.done) return;
    st.done = true;
    st.status = status;
    asio::post(io, [&c, &io] { asio::co_spawn(io, wind_down(c, io), asio::detached); });
}

// mosquitto_sub's order: --retained-only stops at the first fresh message; -R drops
// retained ones; -T drops by topic; --remove-retained clears what is left; --random-filter
// decides whether it is printed, and either way it counts towards -C.
void on_message(client::client& c, const cli_options& o, sub_state& st, asio::io_context& io, const client::message& m) {
    if (st.done) return;
    if (o.retained_only && !m.retain) {
        spawn_finish(c, st, io, 0);
        return;
    }
    if (m.retain && o.skip_retained) return;
    for (const auto& f : o.filter_out) {
        if (core::topic_matches(f, m.topic)) return;
    }
    if (o.remove_retained && m.retain) {
        // An empty retained message clears it [MQTT-3.3.1-10]; QoS 1, as mosquitto_sub sends it.
        (void)c.publish_now(m.topic, std::string_view(), client::qos::at_least_once, true);
    }
    const bool shown = o.random_filter_percent >= 100.0 ||
                       std::uniform_real_distribution<double>(0.0, 100.0)(st.random) < o.random_filter_percent;
    if (shown) {
        st.out.clear();
        st.err.clear();
        format_message(o.print, m, st.out, st.err);
        // The %J complaint first, then the line: the order mosquitto_sub's output takes.
        if (!st.err.empty() && !o.quiet) std::cerr << st.err << std::flush;
        const bool written = std::fwrite(st.out.data(), 1, st.out.size(), stdout) == st.out.size();
        std::fflush(stdout);
        if (!written || std::ferror(stdout)) {
            spawn_finish(c, st, io, 0);  // the reader went away
            return;
        }
    }
    if (o.count != 0 && ++st.printed >= o.count) spawn_finish(c, st, io, 0);
}

asio::awaitable<void> subscribe_all(client::client& c, const cli_options& o, sub_state& st, asio::io_context& io) {
    // Handlers go in before connecting: a persistent session's stored messages arrive at once.
    std::vector<client::subscription> subs;
    for (const auto& filter : o.topics) {
        subs.emplace_back(filter, o.qos, [&](const client::message& m) { on_message(c, o, st, io, m); });
        // Every -t goes to the broker, as mosquitto_sub sends them: each filter's retained
        // messages come, once per filter (a live message is printed once all the same).
        subs.back().always_at_server = true;
    }
    st.subscribed = subs.empty();
    st.unsubscribed = o.unsubscribe.empty();
    auto exit_if_acked = [&] {
        if (o.exit_when_acked && st.subscribed && st.unsubscribed) spawn_finish(c, st, io, 0);
    };
    if (!subs.empty()) {
        asio::co_spawn(
            io,
            [&, subs = std::move(subs)]() mutable -> asio::awaitable<void> {
                const auto r = co_await c.subscribe(std::move(subs), client::wait::ack);
                if (r.ec && r.ec != client::errc::subscription_refused) {
                    if (!st.done) report_error("subscribe: " + r.ec.message(), o.quiet);
                    co_await finish(c, st, io, 1);
                    co_return;
                }
                if (r.ec && std::all_of(r.granted.begin(), r.granted.end(), [](std::uint8_t g) { return g == 0x80; })) {
                    // As mosquitto_sub: say so and leave, with status 0.
                    if (!o.quiet) std::cerr << "All subscription requests were denied.\n";
                    co_await finish(c, st, io, 0);
                    co_return;
                }
                st.subscribed = true;
                exit_if_acked();
            },
            asio::detached);
    }
    if (const auto ec = co_await c.connect()) {
        st.done = true;
        st.status = report_connect_error(ec, o.quiet);
        io.stop();
        co_return;
    }
    if (!o.unsubscribe.empty()) {
        if (const auto ec = co_await c.unsubscribe(o.unsubscribe, client::wait::ack)) {
            if (!st.done) report_error("unsubscribe: " + ec.message(), o.quiet);
            co_await finish(c, st, io, 1);
            co_return;
        }
        st.unsubscribed = true;
        exit_if_acked();
    }
}

asio::awaitable<void> time_limit(client::client& c, const cli_options& o, sub_state& st, asio::io_context& io) {
    asio::steady_timer t(io, std::chrono::seconds(o.timeout_s));
    co_await t.async_wait(asio::use_awaitable);
    if (st.done) co_return;
    if (!o.quiet) std::cerr << "Timed out\n";
    co_await finish(c, st, io, timed_out_status);
}

}  // namespace

int run_sub(const cli_options& o) {
    asio::io_context io;
    sub_state st;
    client::client c(io.get_executor(), o.connection);
    auto debug = o.debug ? debug_printer(o.connection.client_id) : nullptr;
    c.on_connection_event([&, debug](const client::connection_event& e) {
        if (debug) debug(e);
        // A refusal after a reconnect stops the client for good: report it and leave.
        if (e.state == client::connection_state::disconnected && client::is_permanent(e.reason) && !st.done) {
            const int status = report_connect_error(e.reason, o.quiet);
            spawn_finish(c, st, io, status);
        }
    });
    // SIGINT and SIGTERM end the run cleanly (DISCONNECT, status 0), as with mosquitto_sub.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code ec, int) {
        if (!ec) spawn_finish(c, st, io, 0);
    });
    asio::co_spawn(io, subscribe_all(c, o, st, io), asio::detached);
    if (o.timeout_s != 0) asio::co_spawn(io, time_limit(c, o, st, io), asio::detached);
    io.run();
    return st.status;
}

}  // namespace tether::tools
