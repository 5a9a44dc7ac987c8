// The publisher of the crash test (persistence_crash_test.cpp): publishes the numbered
// stream FIRST..LAST with persistence, odd numbers at QoS 1 on crash/q1 and even ones at
// QoS 2 on crash/q2, payload "NUMBER/RUN", and writes "NUMBER\n" to stdout with one
// write() as soon as publish_now() has accepted it: what the test may demand to arrive.
// The test kills it with SIGKILL at random points; a run that reaches LAST disconnects
// (waiting for every acknowledgement), says "acknowledged" and exits 0.
//
//   persist_child PORT DIR CLIENT_ID FIRST LAST RUN
//
// A broker that is down at the start is waited for (connect is retried); exit 2 on bad
// arguments, 3 on a publish error, 4 if no connection comes within a minute.

#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>

#include "tether/client/client.hpp"

namespace {

using namespace std::chrono_literals;
using tether::client::client;
using tether::client::errc;
using tether::client::qos;

bool number(const char* text, unsigned long& out) {
    const std::string_view s(text);
    return std::from_chars(s.data(), s.data() + s.size(), out).ec == std::errc{} && !s.empty();
}

void say(const std::string& line) {
    // One write, unbuffered: on the disk of the test's capture file before the next publish.
    const std::string l = line + "\n";
    if (::write(1, l.data(), l.size()) != static_cast<ssize_t>(l.size())) std::_Exit(5);
}

// `run` by value: the frame outlives the caller's temporaries.
asio::awaitable<int> publish_all(client& c, unsigned long first, unsigned long last, std::string run) {
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    asio::steady_timer pause(co_await asio::this_coro::executor);
    for (;;) {
        const std::error_code ec = co_await c.connect();
        if (!ec) break;
        if (std::chrono::steady_clock::now() > give_up) {
            std::fprintf(stderr, "persist_child: no connection: %s\n", ec.message().c_str());
            co_return 4;
        }
        pause.expires_after(50ms);
        co_await pause.async_wait(asio::use_awaitable);
    }
    for (unsigned long k = first; k <= last; ++k) {
        const bool odd = k % 2 == 1;
        const std::string topic = odd ? "crash/q1" : "crash/q2";
        const std::string payload = std::to_string(k) + "/" + run;
        for (;;) {
            const std::error_code ec = c.publish_now(topic, payload, odd ? qos::at_least_once : qos::exactly_once);
            if (!ec) break;
            if (ec != make_error_code(errc::queue_full)) {
                std::fprintf(stderr, "persist_child: publish %lu: %s\n", k, ec.message().c_str());
                co_return 3;
            }
            (void)co_await c.drain();
        }
        say(std::to_string(k));
        // Keeps pace with the link while there is one: a small queue, so kills land with
        // messages in every state (queued, in the window, past PUBREC). Offline, the queue
        // takes them (drain() would wait for the broker to come back).
        while (c.queued() > 50 && c.is_connected()) {
            pause.expires_after(1ms);
            co_await pause.async_wait(asio::use_awaitable);
        }
    }
    const std::error_code ec = co_await c.disconnect(60s);
    if (ec) {
        std::fprintf(stderr, "persist_child: disconnect: %s (%zu in flight, %zu queued)\n", ec.message().c_str(),
                     c.in_flight(), c.queued());
        co_return 3;
    }
    say("acknowledged");  // every message: the test may now wait for the exit
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    unsigned long port = 0, first = 0, last = 0;
    if (argc != 7 || !number(argv[1], port) || port > 65535 || !number(argv[4], first) || !number(argv[5], last)) {
        std::fprintf(stderr, "usage: persist_child PORT DIR CLIENT_ID FIRST LAST RUN\n");
        return 2;
    }
    tether::client::options o;
    o.host = "127.0.0.1";
    o.port = static_cast<std::uint16_t>(port);
    o.client_id = argv[3];
    o.clean_session = false;  // the broker's session dedupes a QoS 2 message sent again
    o.keep_alive_s = 5;
    o.connect_timeout = 2s;
    o.reconnect.initial_delay = 10ms;
    o.reconnect.max_delay = 100ms;
    o.window = 16;
    o.persistence.directory = argv[2];
    asio::io_context io;
    client c(io.get_executor(), o);
    // For the test's report when something goes wrong: how each connection went.
    c.on_connection_event([](const tether::client::connection_event& e) {
        if (e.state == tether::client::connection_state::connected) {
            std::fprintf(stderr, "connected (session present: %d)\n", e.session_present ? 1 : 0);
        }
    });
    int status = 1;
    asio::co_spawn(io, publish_all(c, first, last, argv[6]), [&](std::exception_ptr e, int s) {
        status = e ? 1 : s;
        io.stop();
    });
    io.run();
    return status;
}
