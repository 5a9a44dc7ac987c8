// `tether device ...` as a program: the built binary against a real mosquitto and the
// scripted cloud of scripted_store.hpp, which runs on its own thread while the test waits
// for each command to exit.

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <csignal>
#include <future>
#include <thread>

#include "broker.hpp"
#include "process.hpp"
#include "scripted_store.hpp"
#include "test_files.hpp"
#include "tether/device/device.hpp"

namespace tether::device {
namespace {

using tether::test::run;

// The scripted cloud on a thread of its own; its state is touched only there.
class cloud_thread {
public:
    explicit cloud_thread(std::uint16_t port) : work_(asio::make_work_guard(io_)) {
        std::promise<bool> started;
        auto ready = started.get_future();
        asio::co_spawn(io_, store_.start(io_, port), [&started](std::exception_ptr e, bool ok) {
            started.set_value(!e && ok);
        });
        thread_ = std::thread([this] { io_.run(); });
        ok_ = ready.get();
    }
    ~cloud_thread() {
        // The client goes on the io_context's thread, then the thread ends.
        asio::post(io_, [this] {
            store_.mqtt.reset();
            work_.reset();
        });
        thread_.join();
    }
    cloud_thread(const cloud_thread&) = delete;
    cloud_thread& operator=(const cloud_thread&) = delete;
    [[nodiscard]] bool ok() const { return ok_; }

private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    test::scripted_store store_;
    std::thread thread_;
    bool ok_ = false;
};

std::vector<std::string> device_args(std::vector<std::string> rest) {
    rest.insert(rest.begin(), {TETHER_BINARY, "device"});
    return rest;
}

TEST(Command, SetThenGetPrintsJsonValues) {
    tether::test::mosquitto_broker broker;
    test::temp_dir t;
    test::write_device(t.path, broker.port());
    cloud_thread cloud(broker.port());
    ASSERT_TRUE(cloud.ok());
    const std::string dir = t.path.string();

    auto r = run(device_args({"set", dir, "name", "Acme Rocket"}));
    ASSERT_EQ(r.status, 0) << r.err;
    r = run(device_args({"set", dir, "cpu", "55.5", "--type", "number"}));
    ASSERT_EQ(r.status, 0) << r.err;
    r = run(device_args({"set", dir, "on", "true", "--type", "boolean"}));
    ASSERT_EQ(r.status, 0) << r.err;
    // Each set waited for the broker's PUBACK, and the broker delivers to the cloud in
    // the order it received: a get published after reaches the cloud after the write.
    r = run(device_args({"get", dir, "name"}));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "\"Acme Rocket\"\n");
    r = run(device_args({"get", dir, "cpu"}));
    EXPECT_EQ(r.out, "55.5\n") << r.err;
    r = run(device_args({"get", dir, "on"}));
    EXPECT_EQ(r.out, "true\n") << r.err;

    r = run(device_args({"metric", dir, "Temp", "21.5"}));
    EXPECT_EQ(r.status, 0) << r.err;
    r = run(device_args({"metric-get", dir, "Temp", "--statistic", "max", "--period", "60"}));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "42.5\n");
}

TEST(Command, ErrorsAreOneLineWithANonZeroStatus) {
    tether::test::mosquitto_broker broker;
    test::temp_dir t;
    test::write_device(t.path, broker.port());
    cloud_thread cloud(broker.port());
    ASSERT_TRUE(cloud.ok());
    const std::string dir = t.path.string();
    auto one_line_error = [](const tether::test::run_result& r) {
        return r.status != 0 && r.out.empty() && !r.err.empty() && r.err.find('\n') == r.err.size() - 1;
    };

    auto r = run(device_args({"get", dir, "missing"}));
    EXPECT_TRUE(one_line_error(r)) << r.status << " " << r.err;
    EXPECT_NE(r.err.find("missing: no value"), std::string::npos) << r.err;
    r = run(device_args({"get", dir, "broken"}));
    EXPECT_TRUE(one_line_error(r)) << r.status << " " << r.err;
    EXPECT_NE(r.err.find("storage failed"), std::string::npos) << r.err;
    r = run(device_args({"set", dir, "cpu", "fast", "--type", "number"}));
    EXPECT_TRUE(one_line_error(r)) << r.status << " " << r.err;
    r = run(device_args({"set", dir, "cpu", "1", "--type", "integer"}));
    EXPECT_TRUE(one_line_error(r)) << r.status << " " << r.err;
    r = run(device_args({"metric-get", dir, "Temp", "--period", "0"}));
    EXPECT_TRUE(one_line_error(r)) << r.status << " " << r.err;
    r = run(device_args({"get", (t.path / "nowhere").string(), "name"}));
    EXPECT_TRUE(one_line_error(r)) << r.status << " " << r.err;
    r = run(device_args({"frobnicate", dir}));
    EXPECT_NE(r.status, 0);
}

// One device per folder across processes: while `tether device run` has the folder, a
// one-shot command on it and a device object in this process are refused (folder_in_use)
// instead of connecting with the same client id and fighting over it; once the agent has
// exited, both work.
TEST(Command, RunHoldsTheFolderAgainstOtherProcesses) {
    tether::test::mosquitto_broker broker;
    test::temp_dir t;
    test::write_device(t.path, broker.port());
    const std::string dir = t.path.string();
    auto agent = std::make_unique<tether::test::process>(device_args({"run", dir}));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (agent->err().find("connected as dev1") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_NE(agent->err().find("connected as dev1"), std::string::npos) << agent->err();

    auto r = run(device_args({"set", dir, "cpu", "1", "--type", "number"}));
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("device folder in use by another device or process"), std::string::npos) << r.err;
    std::error_code here = make_error_code(std::errc::timed_out);
    {
        asio::io_context io;
        device dev(io.get_executor(), t.path);
        asio::co_spawn(io, dev.start(), [&](std::exception_ptr, std::error_code ec) {
            here = ec;
            io.stop();  // a device that did start would keep the io_context running
        });
        io.run_for(std::chrono::seconds(30));
    }
    EXPECT_EQ(here, make_error_code(errc::folder_in_use));

    agent->kill(SIGTERM);
    EXPECT_EQ(agent->wait(), 0) << agent->err();
    agent.reset();
    r = run(device_args({"set", dir, "cpu", "1", "--type", "number"}));
    EXPECT_EQ(r.status, 0) << r.err;
}

}  // namespace
}  // namespace tether::device
