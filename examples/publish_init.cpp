// Publish "Initialized" on myDevice/init at QoS 1 without waiting for the acknowledgement:
// the client sends it (and again after a reconnect, until acknowledged) in the background.
//
//   ./build/examples/publish_init [host] [port]

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <iostream>
#include <string>

#include "tether/client/client.hpp"

using namespace tether::client;

int main(int argc, char** argv) {
    asio::io_context io;
    options opts;
    opts.host = argc > 1 ? argv[1] : "localhost";
    opts.port = static_cast<std::uint16_t>(argc > 2 ? std::stoi(argv[2]) : 1883);
    opts.client_id = "myDevice";
    client mqtt(io.get_executor(), opts);
    int status = 0;

    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            if (auto ec = co_await mqtt.connect()) {
                std::cerr << "connect: " << ec.message() << "\n";
                status = 1;
                co_return;
            }
            co_await mqtt.publish("myDevice/init", "Initialized", qos::at_least_once, wait::none);
            // disconnect() waits for the PUBACK of what is in flight, then says goodbye.
            if (auto ec = co_await mqtt.disconnect()) status = 1;
        },
        asio::detached);
    io.run();
    return status;
}
