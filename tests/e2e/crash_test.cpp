// Acknowledged means stored: a device streams QoS 1 Store writes while tether-cloud run is
// killed with SIGKILL (its broker left running, queuing for the cloud's persistent
// session), then started again (it stops the leftover broker, which saves its queue, and
// starts a fresh one). Every write the device saw acknowledged must then be readable from
// the cloud, whenever the kill landed.

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "cloud_run.hpp"
#include "tether/device/device.hpp"

namespace tether::e2e {
namespace {

TEST(Crash, EveryWriteAcknowledgedToTheDeviceIsStoredAfterTheCloudIsKilled) {
    cloud_run c;
    c.start();
    // Provision with the command first, so that the device below only connects.
    ASSERT_EQ(c.device("set", {"model", "Acme Rocket"}).status, 0);

    asio::io_context io;
    device::device_options options;
    options.reconnect.initial_delay = 50ms;  // the broker is restarted under it
    options.reconnect.max_delay = 500ms;
    device::device dev(io.get_executor(), c.device_dir(), options);

    std::atomic<int> acked{0};
    std::atomic<bool> stop{false};
    std::atomic<bool> done{false};
    std::mutex m;
    std::vector<int> acknowledged;  // by the io thread; read after `done`
    std::vector<std::string> failures;
    std::string start_error;

    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            if (const auto ec = co_await dev.start()) {
                start_error = ec.message();
                done = true;
                co_return;
            }
            for (int i = 0; !stop; ++i) {
                const std::string key = "w" + std::to_string(i);
                const device::store_value value = static_cast<double>(i);
                // An error means not acknowledged: such a write may or may not be stored.
                if (!co_await dev.set(key, value, client::wait::ack)) {
                    acknowledged.push_back(i);
                    ++acked;
                }
            }
            for (const int i : acknowledged) {
                const auto r = co_await dev.get<double>("w" + std::to_string(i), std::chrono::milliseconds(30'000));
                if (!r || *r.value != i) {
                    std::lock_guard lock(m);
                    failures.push_back("w" + std::to_string(i) + ": " + (r ? std::to_string(*r.value) : r.ec.message()));
                }
            }
            co_await dev.stop();
            done = true;
        },
        asio::detached);
    std::thread runner([&] { io.run(); });

    ASSERT_TRUE(wait_until([&] { return acked >= 30 || done; })) << "no writes acknowledged";
    c.process().kill(SIGKILL);
    const int at_kill = acked;
    // Acknowledged by the broker alone while the cloud is dead: held for its session.
    const bool queued = wait_until([&] { return acked >= at_kill + 30 || done; });
    c.start();
    const bool resumed = wait_until([&] { return acked >= at_kill + 90 || done; }, 120s);
    stop = true;
    const bool finished = wait_until([&] { return done.load(); }, 300s);
    if (!finished) io.stop();
    runner.join();

    ASSERT_TRUE(start_error.empty()) << start_error;
    EXPECT_TRUE(queued) << "the broker stopped acknowledging while the cloud was dead";
    EXPECT_TRUE(resumed) << "writes did not resume after the restart";
    ASSERT_TRUE(finished);
    EXPECT_GE(acknowledged.size(), 90u);
    EXPECT_TRUE(failures.empty()) << failures.size() << " acknowledged writes missing, the first: " << failures.front();
}

}  // namespace
}  // namespace tether::e2e
