// The whole loop with the real programs: tether-cloud init and run, a device provisioning
// itself from the kit over TLS (claim certificate, CSR, thing), Store writes and reads
// through the cloud, and the metric the default device schema computes from them.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cloud_run.hpp"

namespace tether::e2e {
namespace {

// Runs `tether device ...` and expects success; returns what it printed.
std::string ok(cloud_run& c, const std::string& command, std::vector<std::string> rest) {
    const auto r = c.device(command, rest);
    EXPECT_EQ(r.status, 0) << "tether device " << command << ": " << r.err;
    return r.out;
}

TEST(Loop, ADeviceFromTheKitProvisionsWritesReadsAndGetsAMetricFromTheSchema) {
    cloud_run c;
    EXPECT_TRUE(fs::exists(c.dir() / "cloud.db")) << "init makes the database";
    EXPECT_EQ(fs::status(c.dir() / "cloud.db").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write)
        << "devices' values and the registry are the service's alone";
    EXPECT_TRUE(fs::exists(c.dir() / "schema.json5")) << "init writes the default device schema";
    c.start();

    // The first command provisions: the device's own key, a certificate with its thing name.
    ok(c, "set", {"model", "Acme Rocket"});
    ASSERT_TRUE(fs::exists(c.device_dir() / "config" / "provision.json5"));
    for (const char* v : {"10", "20", "60"}) ok(c, "set", {"cpu", v, "--type", "number"});

    EXPECT_EQ(ok(c, "get", {"model"}), "\"Acme Rocket\"\n");
    EXPECT_EQ(ok(c, "get", {"cpu"}), "60\n");
    EXPECT_EQ(c.device("get", {"colour"}).status, 1) << "a key never written is not found";

    // schema.json5: CPU takes the value of every Store write of key cpu, per device.
    EXPECT_EQ(ok(c, "metric-get", {"CPU", "--statistic", "avg"}), "30\n");
    EXPECT_EQ(ok(c, "metric-get", {"CPU", "--statistic", "max"}), "60\n");
    EXPECT_EQ(ok(c, "metric-get", {"CPU", "--statistic", "count"}), "3\n");
    EXPECT_EQ(ok(c, "metric-get", {"CPU", "--statistic", "current"}), "60\n");

    // A metric set directly, read back.
    ok(c, "metric", {"Temp", "21.5"});
    EXPECT_EQ(ok(c, "metric-get", {"Temp", "--statistic", "max"}), "21.5\n");
}

TEST(Loop, RunStopsCleanlyOnSigterm) {
    cloud_run c;
    c.start();
    ok(c, "set", {"model", "Acme Rocket"});
    const pid_t broker = c.broker_pid();
    ASSERT_TRUE(alive(broker)) << "run keeps its broker's process id in broker/mosquitto.pid";

    c.process().kill(SIGTERM);
    EXPECT_EQ(c.process().wait(30s), 0) << c.process().err();
    EXPECT_NE(c.process().out().find("tether-cloud stopped: 1 stored"), std::string::npos) << c.process().out();
    EXPECT_FALSE(alive(broker)) << "the broker it started is stopped with it";
    EXPECT_FALSE(fs::exists(c.dir() / "broker" / "mosquitto.pid"));

    // And it starts again on the same folder, with what was stored.
    c.start();
    EXPECT_EQ(ok(c, "get", {"model"}), "\"Acme Rocket\"\n");
}

}  // namespace
}  // namespace tether::e2e
