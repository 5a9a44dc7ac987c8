// Acknowledged means stored: a device streams QoS 1 Store writes while tether-cloud run is
// killed with SIGKILL (its broker left running, queuing for the cloud's persistent
// session), then started again (it stops the leftover broker, which saves its queue, and
// starts a fresh one). Every write the device saw acknowledged must then be readable from
// the cloud, whenever the kill landed.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cloud_run.hpp"
#include "write_stream.hpp"

namespace tether::e2e {
namespace {

TEST(Crash, EveryWriteAcknowledgedToTheDeviceIsStoredAfterTheCloudIsKilled) {
    cloud_run c;
    c.start();
    // Provision with the command first, so that the device below only connects.
    ASSERT_EQ(c.device("set", {"model", "Acme Rocket"}).status, 0);

    device::device_options options;
    options.reconnect.initial_delay = 50ms;  // the broker is restarted under it
    options.reconnect.max_delay = 500ms;
    std::vector<std::string> failures;  // by the stream's thread; read after stop()
    write_stream::after read_back = [&](device::device& dev, const std::vector<int>& acknowledged) -> asio::awaitable<void> {
        for (const int i : acknowledged) {
            const auto r = co_await dev.get<double>("w" + std::to_string(i), std::chrono::milliseconds(30'000));
            if (!r || *r.value != i) {
                failures.push_back("w" + std::to_string(i) + ": " + (r ? std::to_string(*r.value) : r.ec.message()));
            }
        }
    };
    write_stream writes(c.device_dir(), options, read_back);

    ASSERT_TRUE(writes.wait_acked(30)) << "no writes acknowledged";
    c.process().kill(SIGKILL);
    const int at_kill = writes.acked();
    // Acknowledged by the broker alone while the cloud is dead: held for its session.
    const bool queued = writes.wait_acked(at_kill + 30);
    c.start();
    const bool resumed = writes.wait_acked(at_kill + 90, 120s);
    const bool finished = writes.stop();

    ASSERT_TRUE(writes.start_error().empty()) << writes.start_error();
    EXPECT_TRUE(queued) << "the broker stopped acknowledging while the cloud was dead";
    EXPECT_TRUE(resumed) << "writes did not resume after the restart";
    ASSERT_TRUE(finished);
    EXPECT_GE(writes.acknowledged().size(), 90u);
    EXPECT_TRUE(failures.empty()) << failures.size() << " acknowledged writes missing, the first: " << failures.front();
}

}  // namespace
}  // namespace tether::e2e
