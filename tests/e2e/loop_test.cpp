// The whole loop with the real programs: tether-cloud init and run, a device provisioning
// itself from the kit over TLS (claim certificate, CSR, thing), Store writes and reads
// through the cloud, and the metric the default device schema computes from them.

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

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

// The device schema is replaced while run runs: SIGHUP reads the file again. A schema that
// does not load is refused with a clear line, and the one in use stays.
TEST(Loop, SighupReplacesTheDeviceSchemaAndABadOneIsRefused) {
    cloud_run c;
    c.start();
    ok(c, "set", {"model", "Acme Rocket"});  // provisions

    // A second metric, Mem, from Store writes of key mem.
    std::string text;
    {
        std::ifstream in(c.dir() / "schema.json5");
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const std::string cpu_metric = "fields: [{CPU: 'value'}],\n                where: 'key == \"cpu\"',";
    const auto at = text.find(cpu_metric);
    ASSERT_NE(at, std::string::npos) << text;
    std::string two = text;
    two.insert(text.find("metrics: [") + std::string("metrics: [").size(),
               "\n            {namespace: 'Embedthis/Device', fields: [{Mem: 'value'}], where: 'key == \"mem\"',"
               " dimensions: [{Device: 'deviceId'}]},");
    std::ofstream(c.dir() / "schema.json5") << two;
    c.process().kill(SIGHUP);
    ASSERT_TRUE(wait_until([&] { return c.process().err().find("schema replaced") != std::string::npos; }, 30s))
        << c.process().err();
    ok(c, "set", {"mem", "42", "--type", "number"});
    EXPECT_EQ(ok(c, "metric-get", {"Mem", "--statistic", "max"}), "42\n");

    // A bad where: refused, and Mem still fed.
    std::ofstream(c.dir() / "schema.json5") << "{Store: {metrics: [{namespace: 'N', fields: [{X: 'value'}], where: 'key =='}]}}";
    c.process().kill(SIGHUP);
    ASSERT_TRUE(wait_until([&] { return c.process().err().find("schema not replaced") != std::string::npos; }, 30s))
        << c.process().err();
    ok(c, "set", {"mem", "50", "--type", "number"});
    EXPECT_EQ(ok(c, "metric-get", {"Mem", "--statistic", "max"}), "50\n");
    EXPECT_TRUE(alive(c.broker_pid()));
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
