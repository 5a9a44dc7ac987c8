// The device object with its Store: set the model and the CPU load, read them back from
// the cloud, and print what arrives on a command topic under the device's own topics.
//
//   ./build/examples/device_store DIR [count]   (DIR: the device's configuration folder,
//                                                PROTOCOL.md §5; count: stop after that
//                                                many commands, 0 = run until Ctrl-C)

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <iostream>
#include <string>

#include "tether/device/device.hpp"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: device_store DIR [count]\n";
        return 1;
    }
    const long stop_after = argc > 2 ? std::stol(argv[2]) : 0;
    asio::io_context io;
    tether::device::device dev(io.get_executor(), argv[1]);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    int status = 0;
    long received = 0;

    auto stop = [&]() { asio::co_spawn(io, dev.stop(), asio::detached); signals.cancel(); };
    signals.async_wait([&](std::error_code ec, int) {
        if (!ec) stop();
    });

    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            // Provisions on the first run (the claim certificate in the kit), then connects.
            if (const auto ec = co_await dev.start()) {
                std::cerr << "start: " << ec.message() << "\n";
                status = 1;
                signals.cancel();
                co_return;
            }
            std::cout << "connected as " << dev.id() << "\n";

            const std::string model = "Acme Rocket";  // named: GCC 12 and literals in co_await
            if (const auto ec = co_await dev.set("model", model, tether::client::wait::ack)) {
                std::cerr << "set model: " << ec.message() << "\n";
            }
            if (const auto ec = co_await dev.set("cpu", 55.0, tether::client::wait::ack)) {
                std::cerr << "set cpu: " << ec.message() << "\n";
            }
            const auto m = co_await dev.get<std::string>("model");
            if (m) std::cout << "model: " << *m.value << "\n";
            else std::cerr << "get model: " << m.ec.message() << "\n";
            const auto cpu = co_await dev.get<double>("cpu");
            if (cpu) std::cout << "cpu: " << *cpu.value << "\n";
            else std::cerr << "get cpu: " << cpu.ec.message() << "\n";

            // Under the master subscription ioto/device/{id}/#: served locally, no SUBSCRIBE.
            tether::client::subscription command("ioto/device/" + dev.id() + "/command", tether::client::qos::at_least_once,
                                                 [&](const tether::client::message& msg) {
                                                     std::cout << "command: " << msg.text() << std::endl;
                                                     if (stop_after != 0 && ++received == stop_after) stop();
                                                 });
            if (const auto r = co_await dev.mqtt().subscribe(std::move(command)); r.ec) {
                std::cerr << "subscribe: " << r.ec.message() << "\n";
                status = 1;
                stop();
            }
        },
        asio::detached);
    io.run();
    return status;
}
