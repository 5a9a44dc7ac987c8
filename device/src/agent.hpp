#pragma once
// What the device object does, and what outlives it: the state and the background tasks
// (provisioning again after a release or a revoked certificate, the throttle's stay-away).
// The device holds it by a shared_ptr and each task holds it too, so destroying the device
// while a task runs leaves the task a live object to finish with. detach() is how the
// device lets go: everything stops that can stop at once, the owner's callbacks are
// dropped, and a task still under way (an attempt waiting for a provisioning reply, at
// most reply_timeout) ends without connecting.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "tether/client/client.hpp"
#include "tether/device/configuration.hpp"
#include "tether/device/device.hpp"
#include "tether/device/store_reply.hpp"
#include "folder_lock.hpp"

namespace tether::device::detail {

class agent : public std::enable_shared_from_this<agent> {
public:
    agent(asio::any_io_executor executor, std::filesystem::path dir, device_options options);
    ~agent();
    agent(const agent&) = delete;
    agent& operator=(const agent&) = delete;

    // device::start() and stop(); `self` keeps this alive while they run.
    // `replace`: the current identity was refused (or released): provision a new one first.
    // `until_connected`: a background task's start (nobody to report to): a connect() that
    // fails in a way a later attempt may mend (connect_outcome::may_retry) is tried again,
    // with the reconnect policy's backoff, instead of leaving the device offline for good.
    // Any other error ends it: a start that cannot succeed must not run for ever.
    // The application's start (`until_connected` false) returns already_connected while the
    // cloud's close is in force or another start is under way (device::start()).
    asio::awaitable<std::error_code> start(std::shared_ptr<agent> self, bool replace = false,
                                           bool until_connected = false);
    asio::awaitable<void> stop(std::shared_ptr<agent> self, std::chrono::milliseconds limit);
    // The device is being destroyed: stop, close the connections, call its owner no more.
    void detach();

    // Waits for this publish's turn while throttled.
    asio::awaitable<void> pace(std::shared_ptr<agent> self);
    // A request on ioto/service/{id}/{topic}, its reply parsed.
    asio::awaitable<store_result<nlohmann::json>> read(std::shared_ptr<agent> self, std::string topic,
                                                       std::string body,
                                                       std::optional<std::chrono::milliseconds> timeout);

    // For the device's accessors.
    const std::string& id() const noexcept { return id_; }
    const configuration& config() const noexcept { return config_; }
    // The one client of the agent's life, made by the first start(): a new identity goes
    // into it by client::set_options(), so the reference the device hands out stays valid.
    client::client* mqtt() const noexcept { return client_.get(); }
    std::chrono::milliseconds throttle_interval() const noexcept { return throttle_interval_; }
    bool closed_by_cloud() const noexcept { return closed_by_cloud_; }
    unsigned provisioned_count() const noexcept { return provisioned_count_; }

private:
    // `run`: run_ when the calling task began; each of these ends with errc::stopped once
    // halted(run).
    // Provisions, `attempts` times at most (0: until it succeeds), with backoff between.
    asio::awaitable<std::error_code> provision_with_retry(unsigned attempts, unsigned run);
    // One attempt at a new identity while the refused one stays on disk (saved over it on
    // success), at most once per the reconnect policy's ceiling.
    asio::awaitable<std::error_code> replace_identity(unsigned run);
    // How connect_own_identity() failed, for start() to choose what comes next.
    struct connect_outcome {
        bool identity_refused = false;  // the broker refused the certificate as revoked or expired
        // connect() failed otherwise: a broker restarting, a link down. False for errors that
        // retrying cannot fix (client::is_permanent), for already_connected and client_stopped
        // (another start or the application has the client), and once connect() succeeded.
        bool may_retry = false;
    };
    asio::awaitable<std::error_code> connect_own_identity(connect_outcome& outcome, unsigned run);
    void watch(client::client& c);
    [[nodiscard]] std::vector<client::subscription> master_subscriptions() const;
    [[nodiscard]] std::vector<client::subscription> control_subscriptions();
    // The filters of both, for the device `id`.
    [[nodiscard]] static std::vector<std::string> own_filters(const std::string& id);
    asio::awaitable<void> reprovision(std::shared_ptr<agent> self);
    asio::awaitable<void> stay_away(std::shared_ptr<agent> self, std::chrono::milliseconds how_long);
    void on_throttle(const client::message& m);
    void on_release(const client::message& m);
    void report(const provision_report& r) const;
    // Waits until `t` expires, or until stop() or detach() (look at stopped_ afterwards).
    asio::awaitable<void> pause(asio::steady_timer& t);
    void wake_all() noexcept;

    asio::any_io_executor executor_;
    std::filesystem::path dir_;
    device_options options_;
    configuration config_;
    std::string id_;
    // DIR/device.lock: taken by start(), released when the device is stopped (or destroyed)
    // and no start() is under way (provisioning, connecting), whichever ends last.
    folder_lock lock_;
    unsigned starting_ = 0;  // start() calls under way
    void release_folder_if_idle() noexcept;
    std::unique_ptr<client::client> client_;
    // The device id whose master and control filters the client holds (it keeps them, as
    // the application's, across set_options() and sends them again on connecting), and
    // whether their subscribe() calls succeeded. Empty: none.
    std::string own_filters_id_;
    bool own_filters_complete_ = false;
    std::chrono::milliseconds throttle_interval_{0};
    std::chrono::steady_clock::time_point throttle_until_{};
    std::chrono::steady_clock::time_point next_publish_{};
    bool closed_by_cloud_ = false;
    bool stopped_ = false;
    bool detached_ = false;
    // Counts stop() and detach() calls. A task compares it with the value it began with, not
    // only stopped_: start() after stop() clears stopped_, and a task of the earlier run that
    // wakes only then (a wait the stop cancelled) would otherwise go on beside the new run:
    // its pacing wait cut short, a provisioning round at once, and config_ loaded under the
    // new run's start() (which then returned the refusal as if the device were unprovisioned).
    unsigned run_ = 0;
    [[nodiscard]] bool halted(unsigned run) const noexcept { return stopped_ || run != run_; }
    std::optional<unsigned> start_run_;  // the run whose start() is under way, if any
    bool reprovisioning_ = false;
    unsigned provisioned_count_ = 0;
    std::optional<std::chrono::steady_clock::time_point> last_replacement_;
    // The cloud's release (authenticated: its TLS session and the broker's ACL) asks for the
    // next replacement: not held back by the pacing meant for refusals, which may be forged.
    bool released_ = false;
    // The timers of the waits under way (provisioning backoff, replacement pacing, the
    // background start's backoff, the stay-away), each a local of its coroutine: stop() and
    // detach() cancel them all.
    std::vector<asio::steady_timer*> waits_;
};

}  // namespace tether::device::detail
