#pragma once
// The device: made from a configuration directory (PROTOCOL.md §5), it provisions when the
// configuration says 'auto' and no identity is saved yet (§3), connects with its own
// identity, holds the master subscriptions of §2, obeys throttle and release, and offers
// the Store and metrics of §1 over the client, which stays available for anything else.
//
//   asio::io_context io;
//   tether::device::device dev(io.get_executor(), "/var/lib/tether");
//   asio::co_spawn(io, [&]() -> asio::awaitable<void> {
//       if (auto ec = co_await dev.start()) { std::cerr << ec.message() << "\n"; co_return; }
//       co_await dev.set("cpu", 55.0);
//       auto name = co_await dev.get<std::string>("name");
//       if (name) std::cout << *name.value << "\n";
//   }, asio::detached);
//   io.run();

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "tether/client/client.hpp"
#include "tether/device/configuration.hpp"
#include "tether/device/error.hpp"
#include "tether/device/provisioning.hpp"
#include "tether/device/store_reply.hpp"

namespace tether::device {

namespace detail {
class agent;
}

// What set() stores: its JSON type is the Store item's type (string, number, boolean).
using store_value = std::variant<std::string, double, bool>;

struct device_options {
    provision_options provisioning{};
    // Provisioning attempts that fail are retried after a delay drawn from [d/2, d), d
    // doubling from retry_initial to retry_max. 0 attempts: retry for ever.
    std::chrono::milliseconds retry_initial{1'000};
    std::chrono::milliseconds retry_max{300'000};
    unsigned provision_attempts = 0;
    std::chrono::milliseconds request_timeout{10'000};  // get() and get_metric() by default
    // Reconnecting of the client underneath (its full-jitter backoff).
    client::reconnect_policy reconnect{};
    std::uint16_t keep_alive_s = 60;
    // How long the device stays away after a throttle with "close": true (PROTOCOL.md §2
    // says an hour; tests shorten it).
    std::chrono::milliseconds stay_away = std::chrono::hours(1);
    std::function<void(const provision_report&)> on_provision{};         // after each attempt
    std::function<void(const client::connection_event&)> on_connection{};  // the client's events
};

class device {
public:
    // Nothing happens until start(). `executor`: as for client::client (one thread).
    device(asio::any_io_executor executor, std::filesystem::path dir, device_options options = {});
    // Closes the connections at once and calls the options' callbacks no more. A task
    // under way in the background (provisioning again after a release or a revoked
    // certificate, staying away after a throttle) ends on its own, without connecting: an
    // attempt waiting for a provisioning reply waits at most provisioning.reply_timeout,
    // and saves the identity if the reply comes. The folder stays locked until then.
    ~device();
    device(const device&) = delete;
    device& operator=(const device&) = delete;

    // Reads the configuration; provisions if needed (retrying with backoff, each attempt
    // reported to on_provision); connects with the device's identity; subscribes to
    // ioto/device/{id}/# and ioto/account/all/#. A certificate refused as revoked or
    // expired when connecting is replaced: provisioning runs again (at most once per
    // reconnect.max_delay) while the refused identity stays on disk until a new one is
    // saved over it; the device then connects with what is on disk.
    // A kit without device.serialNumber gets a random one, saved in device.json5 first
    // (serial_number.hpp).
    // The folder is locked first (DIR/device.lock, an flock held until this device is
    // stopped or destroyed and any provisioning it started has ended): one device object or
    // process per folder, or they would overwrite each other's identity files.
    // Errors: errc::folder_in_use (another device object or process has the folder), the
    // std::errc of creating DIR/device.lock (permission_denied, ...), the last provisioning
    // error when provision_attempts ran out (provision_report codes), errc::stopped,
    // connect()'s errors (client::errc, TLS, socket), client::errc::already_connected
    // (started: the client connected or reconnecting, the cloud's close in force
    // (closed_by_cloud(): the device comes back when the stay-away ends), or another start
    // under way: one of the application's, or the device's own after a release, a revoked
    // certificate or a stay-away), and the std::errc of a failure to save the new serial
    // number.
    // Throws configuration_error for a bad configuration.
    [[nodiscard]] asio::awaitable<std::error_code> start();

    // Disconnects (flushing what is queued, at most `limit`) and stops reprovisioning and
    // reconnecting. Operations waiting fail with client_stopped or errc::stopped. Releases
    // the folder (start()) once a provisioning attempt under way, if any, has ended.
    asio::awaitable<void> stop(std::chrono::milliseconds limit = std::chrono::seconds(5));

    // The device id (thing name); empty before start() succeeded.
    [[nodiscard]] const std::string& id() const noexcept;
    [[nodiscard]] const configuration& config() const noexcept;
    // The client underneath, for publish, subscribe and request. One client from start()
    // until the device is destroyed: a new identity after a release or a revoked
    // certificate, and the reconnection after a throttle's stay-away, go into this same
    // client (client::set_options), so a reference stays valid and its subscriptions stay.
    // Throws std::logic_error before start().
    [[nodiscard]] client::client& mqtt();

    // Store write (QoS 1): {"key","value","type"} on ioto/service/{id}/store/set. Returns as
    // `how` says. While throttled, waits for its turn first. Errors: errc::not_provisioned
    // (before start), the client's publish errors.
    [[nodiscard]] asio::awaitable<std::error_code> set(std::string key, store_value value,
                                                       client::wait how = client::wait::none);

    // Store read: {"key"} on ioto/service/{id}/store/get/{seq}, the reply on
    // ioto/device/{id}/store/get/{seq}. T: std::string, double, std::int64_t, bool or
    // nlohmann::json. Errors: errc::not_found (null), wrong_type, cloud_error, bad_reply,
    // not_provisioned, client::errc::timeout and the client's request errors.
    template <class T>
    [[nodiscard]] asio::awaitable<store_result<T>> get(std::string key, std::optional<std::chrono::milliseconds> timeout = {});

    // Metric value (QoS 1) on ioto/service/{id}/metric/set. `dimensions`: a JSON array of
    // objects; null means [{"Device": id}]. `elapsed`: buffer.elapsed in seconds, if given.
    // Errors: invalid_argument (dimensions not an array of objects, a value not finite),
    // not_provisioned, the client's publish errors.
    [[nodiscard]] asio::awaitable<std::error_code> set_metric(std::string name, double value,
                                                              nlohmann::json dimensions = nullptr,
                                                              std::optional<std::uint32_t> elapsed = {},
                                                              client::wait how = client::wait::none);

    // Metric read on ioto/service/{id}/metric/get/{seq}: `dimensions` an object (null:
    // {"Device": id}), `statistic` avg|min|max|sum|count|current, `period` in seconds.
    // Errors: as get<double>, and invalid_argument for an unknown statistic or period 0.
    [[nodiscard]] asio::awaitable<store_result<double>> get_metric(std::string name, nlohmann::json dimensions = nullptr,
                                                                   std::string statistic = "avg",
                                                                   std::uint32_t period_s = 300,
                                                                   std::optional<std::chrono::milliseconds> timeout = {});

    // Throttling (PROTOCOL.md §2): the spacing now enforced between Store and metric
    // publishes (0: none), and whether the cloud told the device to stay away.
    [[nodiscard]] std::chrono::milliseconds throttle_interval() const noexcept;
    [[nodiscard]] bool closed_by_cloud() const noexcept;
    // How many times this object provisioned successfully.
    [[nodiscard]] unsigned provisioned_count() const noexcept;

private:
    // The state and the background tasks, shared with those tasks (device/src/agent.hpp):
    // destroying the device while one runs is safe.
    std::shared_ptr<detail::agent> agent_;
};

}  // namespace tether::device
