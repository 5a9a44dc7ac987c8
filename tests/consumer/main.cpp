// A user's first program with an installed tether: connect to the broker named on the
// command line, subscribe, publish at QoS 1, see the message come back, disconnect.
// Prints "round trip ok" and exits 0, or names what failed and exits 1.
//
//   consumer HOST PORT

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <tether/client/client.hpp>

namespace {

asio::awaitable<int> round_trip(tether::client::client& c, bool& received) {
    using namespace tether::client;
    if (auto ec = co_await c.connect()) {
        std::cerr << "connect: " << ec.message() << "\n";
        co_return 1;
    }
    const auto s = co_await c.subscribe(subscription{"consumer/echo", qos::at_least_once, [&](const message& m) {
                                                         received = m.text() == "hello";
                                                     }});
    if (s.ec) {
        std::cerr << "subscribe: " << s.ec.message() << "\n";
        co_return 1;
    }
    if (auto ec = co_await c.publish("consumer/echo", "hello", qos::at_least_once, wait::ack)) {
        std::cerr << "publish: " << ec.message() << "\n";
        co_return 1;
    }
    // Until it comes back; main's time limit ends a wait that never does.
    asio::steady_timer tick(co_await asio::this_coro::executor);
    while (!received) {
        tick.expires_after(std::chrono::milliseconds(10));
        co_await tick.async_wait(asio::use_awaitable);
    }
    if (auto ec = co_await c.disconnect()) {
        std::cerr << "disconnect: " << ec.message() << "\n";
        co_return 1;
    }
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: consumer HOST PORT\n";
        return 2;
    }
    asio::io_context io;
    tether::client::options o;
    o.host = argv[1];
    o.port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    o.client_id = "tether-consumer";
    tether::client::client c(io.get_executor(), o);
    bool received = false;
    int status = 1;
    asio::co_spawn(io, round_trip(c, received), [&](std::exception_ptr e, int s) {
        status = e ? 1 : s;
        io.stop();
    });
    io.run_for(std::chrono::seconds(20));  // a broker that never answers is a failure, not a hang
    if (status == 0) std::cout << "round trip ok\n";
    else if (!received) std::cerr << "the message did not come back\n";
    return status;
}
