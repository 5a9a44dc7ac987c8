// The device's background waits (provisioning backoff, the pacing of replacements, a
// background start's backoff, the throttle's stay-away) each keep their own time: one
// coroutine's wait must not end another's, as a timer they shared did (setting its expiry
// cancelled every wait on it). stop() still ends them all at once.
// Against a real mosquitto, then a listener that takes connections and closes them.

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker.hpp"
#include "coro_test.hpp"
#include "scripted_store.hpp"
#include "tether/device/device.hpp"

namespace tether::device {
namespace {

using namespace std::chrono_literals;
using tether::test::run_coro;
using message_list = std::vector<std::pair<std::string, std::string>>;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The bytes of a QoS 1 PUBLISH of `m` as the broker forwards it [MQTT-3.3]: fixed header,
// remaining length, topic with its length, packet id, payload.
std::size_t publish_size(const std::pair<std::string, std::string>& m) {
    const std::size_t remaining = 2 + m.first.size() + 2 + m.second.size();
    std::size_t length_bytes = 1;
    for (std::size_t r = remaining; r >= 128; r /= 128) ++length_bytes;
    return 1 + length_bytes + remaining;
}

asio::awaitable<void> publish_all(client::client& c, const message_list& messages, bool& done) {
    if (co_await c.connect()) co_return;
    for (const auto& [topic, payload] : messages) {
        if (co_await c.publish(topic, payload, client::qos::at_least_once, client::wait::ack)) co_return;
    }
    (void)co_await c.disconnect();
    done = true;
}

// Publishes `messages` through a client on an io_context of its own, run to the end here:
// the caller's io_context, and a device on it, see none of them until this returns.
bool publish_from_elsewhere(std::uint16_t port, const message_list& messages) {
    asio::io_context io;
    client::options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.client_id = "cloud-elsewhere";
    client::client c(io.get_executor(), o);
    bool done = false;
    asio::co_spawn(io, publish_all(c, messages, done), asio::detached);
    io.run();
    return done;
}

// The most bytes waiting unread in an established IPv4 connection to `port` (/proc/net/tcp):
// the device's, while its io_context cannot read them.
std::size_t unread_bytes_to(std::uint16_t port) {
    std::ifstream f("/proc/net/tcp");
    std::string line;
    std::getline(f, line);  // the header
    std::size_t most = 0;
    while (std::getline(f, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues;
        fields >> slot >> local >> remote >> state >> queues;
        if (state != "01" || remote.find(':') == std::string::npos || queues.find(':') == std::string::npos) continue;
        if (std::stoul(remote.substr(remote.find(':') + 1), nullptr, 16) != port) continue;
        most = std::max<std::size_t>(most, std::stoul(queues.substr(queues.find(':') + 1), nullptr, 16));
    }
    return most;
}

// Takes each connection and closes it at once: to a client, a broker that goes away during
// every CONNECT (an error worth trying again).
asio::awaitable<void> close_each(asio::ip::tcp::acceptor& acceptor, unsigned& taken, bool& ended) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::experimental::as_tuple(asio::use_awaitable));
        if (ec) break;
        ++taken;
    }
    ended = true;
}

// A release and a close come together: the release's start connects again and again (the
// broker is gone: each attempt fails, and waits its backoff) while the device stays away.
// The backoff must not end the stay-away: after several attempts, the device is still away.
// stop() then ends the stay-away at once.
TEST(Waits, AReconnectBackoffDoesNotCutAStayAwayShort) {
    tether::test::mosquitto_broker broker;
    test::temp_dir t;
    test::write_device(t.path, broker.port());
    device_options options;
    options.stay_away = 30s;
    options.reconnect.initial_delay = 10ms;
    options.reconnect.max_delay = 20ms;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        device dev(io.get_executor(), t.path, options);
        CO_ASSERT(!(co_await dev.start()));

        // Both reach the device's socket while its io_context is held here, so that it reads
        // them together, before either task has disconnected the client.
        const std::string close = nlohmann::json{{"timestamp", now_ms()}, {"close", true}}.dump();
        const message_list messages{{"ioto/device/dev1/provision/release", std::to_string(now_ms())},
                                    {"ioto/device/dev1/mqtt/throttle", close}};
        CO_ASSERT(publish_from_elsewhere(broker.port(), messages));
        const std::size_t both = publish_size(messages[0]) + publish_size(messages[1]);
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (unread_bytes_to(broker.port()) < both && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(10ms);  // polling a condition: the outcome is its own
        }
        CO_ASSERT(unread_bytes_to(broker.port()) >= both);
        broker.stop();
        asio::ip::tcp::acceptor acceptor(io);
        const asio::ip::tcp::endpoint where(asio::ip::make_address("127.0.0.1"), broker.port());
        acceptor.open(where.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(where);
        acceptor.listen();
        unsigned taken = 0;
        bool ended = false;
        asio::co_spawn(io, close_each(acceptor, taken, ended), asio::detached);

        // Three attempts: the release's start has waited its backoff twice.
        const bool attempts = co_await tether::test::eventually([&] { return taken >= 3; }, 30s);
        EXPECT_TRUE(attempts) << taken << " connection attempts";
        EXPECT_TRUE(dev.closed_by_cloud()) << "the stay-away ended after " << taken << " reconnection attempts";

        co_await dev.stop();
        const bool woken = co_await tether::test::eventually([&] { return !dev.closed_by_cloud(); }, 10s);
        EXPECT_TRUE(woken) << "stop() left the stay-away waiting";
        acceptor.close();
        CO_ASSERT(co_await tether::test::eventually([&] { return ended; }));
    }, 60s);
}

}  // namespace
}  // namespace tether::device
