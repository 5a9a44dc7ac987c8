// tether sub: subscribe and print what arrives, like mosquitto_sub.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "tether/client/client.hpp"

namespace tether::tools {

namespace {

constexpr int timed_out_status = 27;  // as mosquitto_sub -W

// Lives in run_sub() for as long as the io_context runs; the coroutines share it.
struct sub_state {
    long received = 0;
    bool subscribed = false;
    bool done = false;
    int status = 0;
};

asio::awaitable<void> finish(client::client& c, sub_state& st, asio::io_context& io, int status) {
    if (st.done) co_return;
    st.done = true;
    st.status = status;
    (void)co_await c.disconnect(std::chrono::seconds(5));
    io.stop();
}

asio::awaitable<void> subscribe_all(client::client& c, const cli_options& o, sub_state& st, asio::io_context& io) {
    // Handlers go in before connecting: a persistent session's stored messages arrive at once.
    std::vector<client::subscription> subs;
    for (const auto& filter : o.topics) {
        subs.emplace_back(filter, o.qos, [&](const client::message& m) {
            if (st.done) return;
            if (o.verbose) {
                std::fwrite(m.topic.data(), 1, m.topic.size(), stdout);
                std::fputc(' ', stdout);
            }
            std::fwrite(m.payload.data(), 1, m.payload.size(), stdout);
            if (!o.no_newline) std::fputc('\n', stdout);
            std::fflush(stdout);
            if (o.count != 0 && ++st.received >= o.count) {
                asio::co_spawn(io, finish(c, st, io, 0), asio::detached);
            }
        });
    }
    st.subscribed = subs.empty();
    if (!subs.empty()) {
        asio::co_spawn(
            io,
            [&, subs = std::move(subs)]() mutable -> asio::awaitable<void> {
                const auto r = co_await c.subscribe(std::move(subs), client::wait::ack);
                if (r.ec) {
                    std::cerr << "Error: subscribe: " << r.ec.message() << "\n";
                    co_await finish(c, st, io, 1);
                    co_return;
                }
                st.subscribed = true;
            },
            asio::detached);
    }
    if (const auto ec = co_await c.connect()) {
        std::cerr << "Error: " << ec.message() << "\n";
        st.done = true;
        st.status = 1;
        io.stop();
        co_return;
    }
    if (!o.unsubscribe.empty()) {
        if (const auto ec = co_await c.unsubscribe(o.unsubscribe, client::wait::ack)) {
            std::cerr << "Error: unsubscribe: " << ec.message() << "\n";
            co_await finish(c, st, io, 1);
            co_return;
        }
    }
    if (o.exit_when_acked) {
        asio::steady_timer poll(io, std::chrono::milliseconds(0));
        while (!st.subscribed && !st.done) {
            poll.expires_after(std::chrono::milliseconds(5));
            co_await poll.async_wait(asio::use_awaitable);
        }
        co_await finish(c, st, io, st.done ? st.status : 0);
    }
}

asio::awaitable<void> time_limit(client::client& c, const cli_options& o, sub_state& st, asio::io_context& io) {
    asio::steady_timer t(io, std::chrono::seconds(o.timeout_s));
    co_await t.async_wait(asio::use_awaitable);
    if (st.done) co_return;
    std::cerr << "Timed out\n";
    co_await finish(c, st, io, timed_out_status);
}

}  // namespace

int run_sub(const cli_options& o) {
    asio::io_context io;
    sub_state st;
    client::client c(io.get_executor(), o.connection);
    if (o.debug) c.on_connection_event(debug_printer(o.connection.client_id));
    asio::co_spawn(io, subscribe_all(c, o, st, io), asio::detached);
    if (o.timeout_s != 0) asio::co_spawn(io, time_limit(c, o, st, io), asio::detached);
    io.run();
    return st.status;
}

}  // namespace tether::tools
