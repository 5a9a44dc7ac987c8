// One device per folder (device/src/folder_lock.hpp): a second device object on a folder
// whose device is provisioning is refused with errc::folder_in_use instead of provisioning
// too (the two would overwrite each other's identity files); the folder is free again once
// the first device is gone and any provisioning it started has saved what the cloud issued.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <memory>
#include <optional>

#include "coro_test.hpp"
#include "scripted_cloud.hpp"
#include "test_cloud.hpp"
#include "tether/device/device.hpp"

namespace tether::device {
namespace {

using namespace std::chrono_literals;
using tether::test::run_coro;
using test::client_scope;
using test::scripted_cloud;
namespace fs = std::filesystem;

asio::awaitable<void> start_into(device& d, std::optional<std::error_code>& result) { result = co_await d.start(); }

// The device key and certificate files in certs/.
std::size_t identity_files(const fs::path& kit) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(kit / "certs")) n += e.path().filename().string().starts_with("device-");
    return n;
}

// Whether someone holds the folder's lock. Takes it for a moment when free: only for tests
// in which nothing else tries to take it meanwhile (one thread).
bool folder_locked(const fs::path& kit) {
    const int fd = ::open((kit / "device.lock").c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return false;
    const bool locked = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
    ::close(fd);
    return locked;
}

// The first device provisions (its CSR held by the cloud); a second one on the folder is
// refused and sends no CSR of its own; the first finishes with the one identity saved; when
// it is destroyed, a new device on the folder uses that identity without provisioning.
TEST(FolderLock, ASecondDeviceIsRefusedWhileTheFirstProvisions) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-81");
    scripted_cloud script(cloud);
    device_options options;
    options.provisioning.reply_timeout = 60s;  // the reply comes when the test lets it go
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client_scope scope{script.mqtt};
        CO_ASSERT(co_await script.start(io));
        script.hold = true;
        auto first = std::make_unique<device>(io.get_executor(), kit, options);
        std::optional<std::error_code> first_started;
        asio::co_spawn(io, start_into(*first, first_started), asio::detached);
        CO_ASSERT(co_await tether::test::eventually([&] { return script.held.size() == 1; }));

        // Were it not refused, it would provision: one attempt, not waiting long for a reply.
        device_options once = options;
        once.provision_attempts = 1;
        once.provisioning.reply_timeout = 2s;
        device second(io.get_executor(), kit, once);
        EXPECT_EQ(co_await second.start(), make_error_code(errc::folder_in_use));
        EXPECT_EQ(script.csr_requests, 1u) << "the second device provisioned too";
        EXPECT_EQ(second.provisioned_count(), 0u);
        EXPECT_EQ(make_error_code(errc::folder_in_use).message(), "device folder in use by another device or process");

        co_await script.release_held();
        CO_ASSERT(co_await tether::test::eventually([&] { return first_started.has_value(); }, 60s));
        CO_ASSERT(!*first_started);
        const std::string thing = first->id();
        EXPECT_EQ(first->provisioned_count(), 1u);
        EXPECT_EQ(identity_files(kit), 2u) << "one key and one certificate";
        const auto saved = load_configuration(kit);
        CO_ASSERT(saved.provision.provisioned);
        const std::string cert = test::read_text(saved.mqtt.cert.value);
        EXPECT_EQ(test::mode_of(kit / "device.lock"), 0600u);

        first.reset();
        device third(io.get_executor(), kit, options);
        CO_ASSERT(!(co_await third.start()));
        EXPECT_EQ(third.provisioned_count(), 0u) << "the saved identity was not used";
        EXPECT_EQ(third.id(), thing);
        EXPECT_TRUE(third.mqtt().is_connected());
        EXPECT_EQ(script.csr_requests, 1u);
        EXPECT_EQ(test::read_text(load_configuration(kit).mqtt.cert.value), cert);
        co_await third.stop();
        (void)co_await script.mqtt->disconnect();
    });
}

// A device destroyed while it provisions keeps the folder until the reply has come and
// its identity is saved (Lifetime.*): a device made meanwhile is refused, one made after
// starts with that identity.
TEST(FolderLock, ADeviceDestroyedWhileProvisioningHoldsTheFolderUntilItsIdentityIsSaved) {
    test::test_cloud cloud;
    const auto kit = cloud.dir.path / "kit";
    cloud.make_kit(kit, "sensor-82");
    scripted_cloud script(cloud);
    device_options options;
    options.provisioning.reply_timeout = 60s;
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        client_scope scope{script.mqtt};
        CO_ASSERT(co_await script.start(io));
        script.hold = true;
        auto first = std::make_unique<device>(io.get_executor(), kit, options);
        std::optional<std::error_code> first_started;
        asio::co_spawn(io, start_into(*first, first_started), asio::detached);
        CO_ASSERT(co_await tether::test::eventually([&] { return script.held.size() == 1; }));
        first.reset();
        EXPECT_TRUE(folder_locked(kit));

        device second(io.get_executor(), kit, options);
        EXPECT_EQ(co_await second.start(), make_error_code(errc::folder_in_use));
        EXPECT_EQ(script.csr_requests, 1u);

        co_await script.release_held();
        CO_ASSERT(co_await tether::test::eventually([&] { return first_started.has_value(); }, 60s));
        EXPECT_EQ(*first_started, make_error_code(errc::stopped));
        CO_ASSERT(load_configuration(kit).provision.provisioned);  // what the cloud issued is saved
        CO_ASSERT(co_await tether::test::eventually([&] { return !folder_locked(kit); }));

        CO_ASSERT(!(co_await second.start()));
        EXPECT_EQ(second.provisioned_count(), 0u);
        EXPECT_EQ(second.id(), load_configuration(kit).mqtt.client_id.value);
        EXPECT_EQ(identity_files(kit), 2u);
        EXPECT_EQ(script.csr_requests, 1u);
        co_await second.stop();
        (void)co_await script.mqtt->disconnect();
    });
}

}  // namespace
}  // namespace tether::device
