// The smallest useful tether program: connect, publish one QoS 1 message, wait for its
// PUBACK, disconnect. scripts/bench_size.sh links it statically to measure what tether
// (with the Asio it instantiates) adds to a device's program, beside OpenSSL, the C++
// runtime and libc.
//
//   min_pub [HOST [PORT]]

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>

#include "tether/client/client.hpp"

int main(int argc, char** argv) {
    tether::client::options o;
    o.host = argc > 1 ? argv[1] : "localhost";
    o.port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 1883);
    o.client_id = "min-pub";
    asio::io_context io;
    tether::client::client c(io.get_executor(), o);
    int status = 1;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            if (const auto ec = co_await c.connect()) {
                std::fprintf(stderr, "connect: %s\n", ec.message().c_str());
                co_return;
            }
            const auto ec = co_await c.publish("min/pub", "hello", tether::client::qos::at_least_once);
            if (!ec) status = 0;
            (void)co_await c.disconnect();
        },
        asio::detached);
    io.run();
    return status;
}
