// tether pub: publish one message, or one per line of stdin, like mosquitto_pub.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <iostream>

#include "commands.hpp"
#include "stdin_reader.hpp"
#include "tether/client/client.hpp"

namespace tether::tools {

namespace {

constexpr auto drain_limit = std::chrono::seconds(60);
constexpr std::size_t backpressure_every = 500;  // wait for one ack per this many lines

asio::awaitable<void> publish_all(client::client& c, const cli_options& o, asio::io_context& io, int& status) {
    if (const auto ec = co_await c.connect()) {
        std::cerr << "Error: " << ec.message() << "\n";
        status = 1;
        co_return;
    }
    const std::string& topic = o.topics.front();
    auto fail = [&](const std::error_code& ec) {
        std::cerr << "Error: publish failed: " << ec.message() << "\n";
        status = 1;
    };
    if (o.lines) {
        stdin_reader in(io.get_executor());
        std::size_t n = 0;
        while (auto line = co_await in.next_line()) {
            // Queued without waiting, so that writes coalesce; now and then wait for an
            // acknowledgement, so that a large input cannot outrun the offline queue.
            const auto how = ++n % backpressure_every == 0 ? client::wait::ack : client::wait::none;
            if (const auto ec = co_await c.publish(topic, *line, o.qos, how, o.retain)) {
                fail(ec);
                break;
            }
        }
    } else {
        // No temporaries inside co_await expressions: GCC 12 may destroy them twice.
        std::string payload;
        if (o.stdin_whole) {
            stdin_reader in(io.get_executor());
            payload = co_await in.all();
        } else {
            payload = *o.message;
        }
        if (const auto ec = co_await c.publish(topic, payload, o.qos, client::wait::none, o.retain)) fail(ec);
    }
    // Waits until every QoS 1/2 message is acknowledged (across reconnects), then DISCONNECT.
    if (const auto ec = co_await c.disconnect(drain_limit); ec && status == 0) {
        std::cerr << "Error: " << (ec == client::errc::timeout ? "messages not acknowledged in time" : ec.message())
                  << "\n";
        status = 1;
    }
}

}  // namespace

int run_pub(const cli_options& o) {
    asio::io_context io;
    int status = 0;
    client::client c(io.get_executor(), o.connection);
    if (o.debug) c.on_connection_event(debug_printer(o.connection.client_id));
    asio::co_spawn(io, publish_all(c, o, io, status), [&](std::exception_ptr e) {
        if (e) status = 1;
        io.stop();
    });
    io.run();
    return status;
}

}  // namespace tether::tools
