// Subscribe to myDevice/change and print the topic and text of each message.
//
//   ./build/examples/subscribe_change [host] [port] [count]   (count: stop after that many)

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
    opts.client_id = "myDevice-listener";
    const long stop_after = argc > 3 ? std::stol(argv[3]) : 0;
    client mqtt(io.get_executor(), opts);
    long received = 0;
    int status = 0;

    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            if (auto ec = co_await mqtt.connect()) {
                std::cerr << "connect: " << ec.message() << "\n";
                status = 1;
                co_return;
            }
            auto r = co_await mqtt.subscribe({"myDevice/change", qos::at_least_once, [&](const message& m) {
                                                  // m.text().data() is NUL-terminated: fine as a C string.
                                                  std::cout << m.topic << ": " << m.text().data() << std::endl;
                                                  if (stop_after != 0 && ++received == stop_after) {
                                                      asio::co_spawn(io, mqtt.disconnect(), asio::detached);
                                                  }
                                              }});
            if (r.ec) {
                std::cerr << "subscribe: " << r.ec.message() << "\n";
                status = 1;
                co_await mqtt.disconnect();
            }
        },
        asio::detached);
    io.run();
    return status;
}
