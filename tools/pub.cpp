// tether pub: publish one message (from -m, -f, -n or -s, --repeat times), or one per line
// of stdin (-l), like mosquitto_pub 2.0.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include <sys/stat.h>

#include "commands.hpp"
#include "exit_status.hpp"
#include "stdin_reader.hpp"
#include "tether/client/client.hpp"

namespace tether::tools {

namespace {

constexpr auto drain_limit = std::chrono::seconds(60);
constexpr std::size_t backpressure_every = 500;  // wait for one ack per this many lines
constexpr unsigned long long max_payload = 268'435'455;

// -f: the whole file, its size checked before reading (an MQTT payload is at most
// 268,435,455 bytes).
bool read_file(const std::string& path, std::string& out) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    struct stat info {};
    const bool sized = ::fstat(::fileno(f), &info) == 0 && S_ISREG(info.st_mode) &&
                       static_cast<unsigned long long>(info.st_size) <= max_payload;
    if (sized) {
        out.resize(static_cast<std::size_t>(info.st_size));
        out.resize(std::fread(out.data(), 1, out.size(), f));
    }
    const bool ok = sized && std::ferror(f) == 0;
    std::fclose(f);
    return ok;
}

asio::awaitable<void> publish_all(client::client& c, const cli_options& o, asio::io_context& io, int& status) {
    // No temporaries inside co_await expressions: GCC 12 may destroy them twice.
    std::string payload;
    if (!o.file.empty() && !read_file(o.file, payload)) {
        report_error("Unable to read file \"" + o.file + "\" (missing, unreadable, or over 268435455 bytes).", o.quiet);
        status = 1;
        co_return;
    }
    if (const auto ec = co_await c.connect()) {
        status = report_connect_error(ec, o.quiet);
        co_return;
    }
    const std::string& topic = o.topics.front();
    auto fail = [&](const std::error_code& ec) {
        report_error("publish failed: " + ec.message(), o.quiet);
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
        if (o.stdin_whole) {
            stdin_reader in(io.get_executor());
            payload = co_await in.all();
        } else if (o.message) {
            payload = *o.message;
        }
        asio::steady_timer pause(io);
        for (long i = 0; i < o.repeat; ++i) {
            if (i != 0 && o.repeat_delay.count() != 0) {
                // --repeat-delay counts from the previous message's completion, as in mosquitto_pub.
                pause.expires_after(o.repeat_delay);
                co_await pause.async_wait(asio::use_awaitable);
            }
            const auto how = o.repeat > 1 ? client::wait::ack : client::wait::none;
            if (const auto ec = co_await c.publish(topic, payload, o.qos, how, o.retain)) {
                fail(ec);
                break;
            }
        }
    }
    // Waits until every QoS 1/2 message is acknowledged (across reconnects), then DISCONNECT.
    if (const auto ec = co_await c.disconnect(drain_limit); ec && status == 0) {
        report_error(ec == client::errc::timeout ? "messages not acknowledged in time" : ec.message(), o.quiet);
        status = 1;
    }
    // Lines published without waiting (-l) hear of no refusal themselves: counted instead.
    if (const auto refused = c.stats().messages_refused; refused != 0 && status == 0) {
        report_error(std::to_string(refused) + " message(s) refused: the broker closed the connection each time", o.quiet);
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
