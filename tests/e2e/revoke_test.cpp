// Revocation and release with the real programs: a device from the kit online under
// `tether-cloud run`; `tether-cloud revoke` cuts it off (the broker refuses its
// certificate); the device provisions again and is refused (DeviceRevoked), which it
// reports and retries; `tether-cloud release` lets it in: a new certificate, connected,
// and its old certificate still refused.

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_future.hpp>
#include <future>
#include <type_traits>
#include <thread>

#include "cloud_run.hpp"
#include "tether/client/client.hpp"
#include "tether/device/device.hpp"

namespace tether::e2e {
namespace {

// The device on an io_context of its own thread; the test looks at it through post().
class device_thread {
public:
    device_thread(const fs::path& dir, device::device_options options)
        : work_(io_.get_executor()), dev_(io_.get_executor(), dir, std::move(options)), thread_([this] { io_.run(); }) {}
    ~device_thread() {
        (void)on_io([this] {
            asio::co_spawn(io_, dev_.stop(std::chrono::seconds(1)), [this](std::exception_ptr) { work_.reset(); });
            return 0;
        });
        thread_.join();
    }

    template <class F>
    std::invoke_result_t<F> on_io(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto done = task.get_future();
        asio::post(io_, [&task] { task(); });
        return done.get();
    }

    std::error_code start() {
        auto done = asio::co_spawn(io_, dev_.start(), asio::use_future);
        return done.get();
    }
    device::device& dev() { return dev_; }  // on the io thread only
    asio::io_context& io() { return io_; }

private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    device::device dev_;
    std::thread thread_;
};

// Whether the broker lets a client in with this certificate and key (client id "probe").
std::error_code connect_with(const cloud_run& c, const fs::path& cert, const fs::path& key) {
    client::options o;
    o.host = "localhost";
    o.port = c.port();
    o.client_id = "probe";
    o.tls.enabled = true;
    o.tls.ca_file = (c.device_dir() / "certs" / "ca.crt").string();
    o.tls.cert_file = cert.string();
    o.tls.key_file = key.string();
    o.reconnect.enabled = false;
    asio::io_context io;
    auto done = asio::co_spawn(
        io,
        [&]() -> asio::awaitable<std::error_code> {
            client::client probe(io.get_executor(), o);
            auto ec = co_await probe.connect();
            if (!ec) (void)co_await probe.disconnect();
            co_return ec;
        },
        asio::use_future);
    io.run();
    return done.get();
}

TEST(Revoke, ARevokedDeviceIsCutOffRefusedAtProvisioningUntilReleasedThenGetsANewCertificate) {
    cloud_run c;
    c.start();
    std::mutex m;
    std::vector<device::provision_report> reports;
    device::device_options options;
    options.retry_initial = 100ms;
    options.retry_max = 1s;
    options.reconnect.initial_delay = 50ms;
    options.reconnect.max_delay = 500ms;
    options.on_provision = [&](const device::provision_report& r) {
        std::lock_guard lock(m);
        reports.push_back(r);
    };
    auto revoked_reports = [&] {
        std::lock_guard lock(m);
        return std::count_if(reports.begin(), reports.end(),
                             [](const device::provision_report& r) { return r.error_code == "DeviceRevoked"; });
    };
    device_thread d(c.device_dir(), options);
    ASSERT_FALSE(d.start());
    const std::string id = d.on_io([&] { return d.dev().id(); });
    ASSERT_FALSE(id.empty());
    const auto first = device::load_configuration(c.device_dir());
    const fs::path old_cert = c.dir() / "old.crt", old_key = c.dir() / "old.key";
    fs::copy_file(first.mqtt.cert.value, old_cert);
    fs::copy_file(first.mqtt.key.value, old_key);

    // Revoke: the command closes the device's connection; its next handshake is refused,
    // and it provisions again, to be refused as revoked (and to try again).
    const auto revoke = test::run({TETHER_CLOUD_BINARY, "revoke", c.dir().string(), id}, {}, 60s);
    ASSERT_EQ(revoke.status, 0) << revoke.err;
    EXPECT_NE(revoke.out.find(id + " is revoked"), std::string::npos) << revoke.out;
    ASSERT_TRUE(wait_until([&] { return revoked_reports() >= 2; }, 60s)) << "no DeviceRevoked reported twice";
    EXPECT_EQ(d.on_io([&] { return d.dev().provisioned_count(); }), 1u);
    EXPECT_TRUE(connect_with(c, old_cert, old_key)) << "the broker let the revoked certificate in";
    const auto again = test::run({TETHER_CLOUD_BINARY, "revoke", c.dir().string(), id}, {}, 60s);
    EXPECT_EQ(again.status, 1);
    EXPECT_NE(again.err.find("revoked already"), std::string::npos) << again.err;

    // Release: the next attempt gets a new certificate, and the device connects with it.
    const auto release = test::run({TETHER_CLOUD_BINARY, "release", c.dir().string(), id}, {}, 60s);
    ASSERT_EQ(release.status, 0) << release.err;
    EXPECT_NE(release.out.find(id + " is released"), std::string::npos) << release.out;
    ASSERT_TRUE(wait_until(
        [&] { return d.on_io([&] { return d.dev().provisioned_count() == 2 && d.dev().mqtt().is_connected(); }); },
        60s));
    const auto second = device::load_configuration(c.device_dir());
    EXPECT_EQ(d.on_io([&] { return d.dev().id(); }), id);
    EXPECT_NE(fs::file_size(second.mqtt.cert.value), 0u);
    // The cloud takes its writes again: a value written is read back.
    auto write = asio::co_spawn(
        d.io(),
        [&]() -> asio::awaitable<std::string> {
            if (auto ec = co_await d.dev().set("model", std::string("Acme Rocket"), client::wait::ack)) co_return ec.message();
            const auto got = co_await d.dev().get<std::string>("model");
            co_return got.ec ? got.ec.message() : *got.value;
        },
        asio::use_future);
    EXPECT_EQ(write.get(), "Acme Rocket");
    // The old certificate stays refused; the new one is let in.
    EXPECT_TRUE(connect_with(c, old_cert, old_key));
    EXPECT_FALSE(connect_with(c, second.mqtt.cert.value, second.mqtt.key.value));
}

TEST(Revoke, TheCommandsRefuseAnUnknownDeviceAndABadName) {
    cloud_run c;
    for (const char* command : {"revoke", "release"}) {
        const auto unknown = test::run({TETHER_CLOUD_BINARY, command, c.dir().string(), "ghost"}, {}, 60s);
        EXPECT_EQ(unknown.status, 1);
        EXPECT_EQ(unknown.err, "Error: no device named ghost\n");
        const auto bad = test::run({TETHER_CLOUD_BINARY, command, c.dir().string(), "a/b"}, {}, 60s);
        EXPECT_EQ(bad.status, 1);
        EXPECT_NE(bad.err.find("is not a thing name"), std::string::npos) << bad.err;
        const auto usage = test::run({TETHER_CLOUD_BINARY, command, c.dir().string()}, {}, 60s);
        EXPECT_EQ(usage.status, 1);
        EXPECT_EQ(usage.err, std::string("Usage: tether-cloud ") + command + " DIR THING\n");
    }
}

}  // namespace
}  // namespace tether::e2e
