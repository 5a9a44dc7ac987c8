// The device object: provisioning, connection with the device's identity, the master
// subscriptions, throttle and release (PROTOCOL.md §2), Store and metrics (§1).

#include "tether/device/device.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ssl/error.hpp>
#include <asio/use_awaitable.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "client_options.hpp"
#include "tether/device/identity_files.hpp"
#include "tether/device/serial_number.hpp"

namespace tether::device {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A timestamp (ms since the epoch) no older than `limit`. Far future stamps are refused
// too: a clock that far ahead is not one to obey.
bool is_fresh(const json& stamp, std::chrono::milliseconds limit) {
    if (!stamp.is_number()) return false;
    const double t = stamp.get<double>();
    if (!std::isfinite(t)) return false;
    const double age = static_cast<double>(now_ms()) - t;
    return age <= static_cast<double>(limit.count()) && age >= -static_cast<double>(limit.count());
}

// The broker refused the device's own certificate in a way that a new one mends: revoked
// (the cloud released or replaced it) or expired.
bool is_identity_refused(const std::error_code& ec) {
    if (ec.category() != asio::error::get_ssl_category()) return false;
    const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    return reason == SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED || reason == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED;
}

bool needs_provisioning(const configuration& c) {
    return c.mqtt.cert.is_auto || c.mqtt.key.is_auto || c.mqtt.client_id.is_auto;
}

constexpr std::chrono::milliseconds throttle_first{1'000}, throttle_max{30'000};
constexpr std::chrono::minutes throttle_window{1};  // pacing lasts this long after the last throttle
constexpr std::chrono::hours stay_away_time{1};      // "close": true

}  // namespace

device::device(asio::any_io_executor executor, std::filesystem::path dir, device_options options)
    : executor_(std::move(executor)),
      dir_(std::move(dir)),
      options_(std::move(options)),
      wakeup_(std::make_shared<asio::steady_timer>(executor_)) {}

device::~device() {
    stopped_ = true;
    wakeup_->cancel();
    // A client destroyed below may still report `disconnected`: not to this device any more.
    if (client_) client_->on_connection_event(nullptr);
    for (auto& c : retired_) c->on_connection_event(nullptr);
}

client::client& device::mqtt() {
    if (!client_) throw std::logic_error("tether::device::device::mqtt() before start()");
    return *client_;
}

asio::awaitable<std::error_code> device::provision_with_retry() {
    // A kit without a serial number: one made now and saved, the same for every attempt
    // and every later provisioning.
    if (!config_.device.serial_number || config_.device.serial_number->empty()) {
        try {
            (void)ensure_serial_number(dir_);
        } catch (const std::system_error& e) {
            co_return e.code();
        }
        config_ = load_configuration(dir_);
    }
    std::chrono::milliseconds delay = options_.retry_initial;
    std::mt19937_64 rng(std::random_device{}());
    for (unsigned attempt = 1;; ++attempt) {
        const auto report = co_await provision(executor_, config_, options_.provisioning);
        if (options_.on_provision) options_.on_provision(report);
        if (stopped_) co_return make_error_code(errc::stopped);
        if (!report.ec) {
            ++provisioned_count_;
            co_return std::error_code{};
        }
        // Nothing to retry with: the configuration must change first.
        if (report.ec == errc::no_claim_identity || report.ec == errc::no_serial_number) co_return report.ec;
        if (options_.provision_attempts != 0 && attempt >= options_.provision_attempts) co_return report.ec;
        const auto half = std::max<std::int64_t>(delay.count() / 2, 0);
        std::uniform_int_distribution<std::int64_t> pick(half, std::max<std::int64_t>(delay.count() - 1, half));
        wakeup_->expires_after(std::chrono::milliseconds(pick(rng)));
        auto timer = wakeup_;  // the device may be destroyed while this waits
        (void)co_await timer->async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        if (stopped_) co_return make_error_code(errc::stopped);
        delay = std::min(delay * 2, options_.retry_max);
    }
}

// Registers the connection-event callback. A plain function, as are the two below that
// make handlers capturing `this`: the lambdas stay out of the coroutines' frames.
void device::watch(client::client& c) {
    c.on_connection_event([this](const client::connection_event& e) {
        if (options_.on_connection) options_.on_connection(e);
        // Reconnecting with a certificate the cloud revoked: get a new one.
        if (e.state != client::connection_state::connected && is_identity_refused(e.reason) && !reprovisioning_ &&
            !stopped_) {
            asio::co_spawn(executor_, reprovision(), asio::detached);
        }
    });
}

// The master subscriptions (PROTOCOL.md §2): one SUBSCRIBE each; every filter under them
// (replies, throttle, release, the application's) is then served locally.
std::vector<client::subscription> device::master_subscriptions() const {
    std::vector<client::subscription> subs;
    subs.emplace_back("ioto/device/" + id_ + "/#", client::qos::at_least_once);
    subs.emplace_back("ioto/account/all/#", client::qos::at_least_once);
    return subs;
}

// Throttle and release. Not in the masters' subscribe() call: the client delivers a
// message to one filter per call, and there the handler-less master would take it.
std::vector<client::subscription> device::control_subscriptions() {
    const std::string device_topics = "ioto/device/" + id_;
    std::vector<client::subscription> subs;
    subs.emplace_back(device_topics + "/mqtt/throttle", client::qos::at_least_once,
                      [this](const client::message& m) { on_throttle(m); });
    subs.emplace_back(device_topics + "/provision/release", client::qos::at_least_once,
                      [this](const client::message& m) { on_release(m); });
    return subs;
}

asio::awaitable<std::error_code> device::connect_own_identity(bool& identity_refused) {
    identity_refused = false;
    id_ = config_.mqtt.client_id.value;
    if (id_.empty()) id_ = config_.device.id.value;
    auto opts = detail::client_options(config_, id_, config_.mqtt.cert.value, config_.mqtt.key.value);
    // The durable outbox of this identity (not the claim connection's): Store writes and
    // metrics accepted while offline survive a restart. A journal belongs to one client id,
    // so a device provisioned again starts a journal of its own beside the old one.
    if (!config_.mqtt.persist.empty()) {
        opts.persistence.directory = (config_.mqtt.persist / id_).string();
        opts.persistence.level =
            config_.mqtt.persist_power_loss ? client::durability::power_loss : client::durability::process_crash;
    }
    opts.reconnect = options_.reconnect;
    opts.keep_alive_s = options_.keep_alive_s;
    if (client_) retired_.push_back(std::move(client_));
    client_ = std::make_unique<client::client>(executor_, opts);
    watch(*client_);
    if (const auto ec = co_await client_->connect()) {
        identity_refused = is_identity_refused(ec);
        co_return ec;
    }
    auto masters = master_subscriptions();
    if (const auto s = co_await client_->subscribe(std::move(masters), client::wait::ack); s.ec) co_return s.ec;
    auto control = control_subscriptions();
    const auto s = co_await client_->subscribe(std::move(control), client::wait::ack);
    co_return s.ec;
}

asio::awaitable<std::error_code> device::start() {
    stopped_ = false;
    // Twice at most: a refused identity is forgotten and provisioned once more.
    for (int round = 0;; ++round) {
        config_ = load_configuration(dir_);
        if (needs_provisioning(config_)) {
            if (const auto ec = co_await provision_with_retry()) co_return ec;
            config_ = load_configuration(dir_);
        }
        bool refused = false;
        const auto ec = co_await connect_own_identity(refused);
        if (!refused || round > 0 || !config_.provision.provisioned) co_return ec;
        forget_identity(dir_);
    }
}

asio::awaitable<void> device::reprovision() {
    if (reprovisioning_ || stopped_) co_return;
    reprovisioning_ = true;
    if (client_) (void)co_await client_->disconnect(1s);
    try {
        forget_identity(dir_);
    } catch (const std::system_error& e) {
        if (options_.on_provision) {
            provision_report r;
            r.ec = e.code();
            r.error_message = e.what();
            options_.on_provision(r);
        }
        reprovisioning_ = false;
        co_return;
    }
    id_.clear();
    (void)co_await start();
    reprovisioning_ = false;
}

asio::awaitable<void> device::stop(std::chrono::milliseconds limit) {
    stopped_ = true;
    wakeup_->cancel();
    if (client_) (void)co_await client_->disconnect(limit);
}

void device::on_release(const client::message& m) {
    const json stamp = json::parse(m.text(), nullptr, false);
    if (!is_fresh(stamp, 10s)) return;  // a stale or malformed release is ignored (PROTOCOL.md §2)
    // Not from inside the handler: reprovisioning replaces the client that runs it.
    asio::co_spawn(executor_, reprovision(), asio::detached);
}

void device::on_throttle(const client::message& m) {
    const json body = json::parse(m.text(), nullptr, false);
    if (!body.is_object() || !body.contains("timestamp") || !is_fresh(body["timestamp"], 30s)) return;
    if (body.contains("close") && body["close"].is_boolean() && body["close"].get<bool>()) {
        closed_by_cloud_ = true;
        asio::co_spawn(executor_, stay_away(stay_away_time), asio::detached);
        return;
    }
    throttle_interval_ = throttle_interval_.count() == 0 ? throttle_first : std::min(throttle_interval_ * 2, throttle_max);
    throttle_until_ = std::chrono::steady_clock::now() + throttle_window;
}

asio::awaitable<void> device::stay_away(std::chrono::milliseconds how_long) {
    if (client_) (void)co_await client_->disconnect(1s);
    wakeup_->expires_after(how_long);
    auto timer = wakeup_;
    (void)co_await timer->async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    if (stopped_) co_return;
    closed_by_cloud_ = false;
    (void)co_await start();
}

// Spaces publishes by the throttle interval while the throttle lasts.
asio::awaitable<void> device::pace() {
    const auto now = std::chrono::steady_clock::now();
    if (throttle_interval_.count() == 0) co_return;
    if (now >= throttle_until_) {
        throttle_interval_ = {};
        co_return;
    }
    if (next_publish_ > now) {
        asio::steady_timer t(executor_, next_publish_);
        next_publish_ += throttle_interval_;
        (void)co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    } else {
        next_publish_ = now + throttle_interval_;
    }
}

asio::awaitable<std::error_code> device::set(std::string key, store_value value, client::wait how) {
    if (!client_ || id_.empty()) co_return make_error_code(errc::not_provisioned);
    json body{{"key", std::move(key)}};
    std::visit(
        [&](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, double>) {
                body["type"] = "number";
                body["value"] = json_number(v);  // 60, not 60.0: the cloud stores and answers what it got
            } else if constexpr (std::is_same_v<V, bool>) {
                body["type"] = "boolean";
                body["value"] = v;
            } else {
                body["type"] = "string";
                body["value"] = v;
            }
        },
        value);
    if (const double* d = std::get_if<double>(&value); d != nullptr && !std::isfinite(*d)) {
        co_return make_error_code(client::errc::invalid_argument);  // JSON has no NaN or infinity
    }
    co_await pace();
    co_return co_await client_->publish("ioto/service/" + id_ + "/store/set", body.dump(), client::qos::at_least_once,
                                        how);
}

asio::awaitable<store_result<json>> device::read(std::string topic, std::string body,
                                                 std::optional<std::chrono::milliseconds> timeout) {
    store_result<json> r;
    if (!client_ || id_.empty()) {
        r.ec = errc::not_provisioned;
        co_return r;
    }
    const auto reply = co_await client_->request("ioto/service/" + id_ + "/" + topic, body,
                                                 "ioto/device/" + id_ + "/" + topic,
                                                 timeout.value_or(options_.request_timeout));
    if (reply.ec) {
        r.ec = reply.ec;
        co_return r;
    }
    co_return parse_store_reply(reply.payload);
}

template <class T>
asio::awaitable<store_result<T>> device::get(std::string key, std::optional<std::chrono::milliseconds> timeout) {
    const std::string body = json{{"key", std::move(key)}}.dump();
    co_return convert_store_value<T>(co_await read("store/get", body, timeout));
}

template asio::awaitable<store_result<std::string>> device::get<std::string>(std::string, std::optional<std::chrono::milliseconds>);
template asio::awaitable<store_result<double>> device::get<double>(std::string, std::optional<std::chrono::milliseconds>);
template asio::awaitable<store_result<std::int64_t>> device::get<std::int64_t>(std::string, std::optional<std::chrono::milliseconds>);
template asio::awaitable<store_result<bool>> device::get<bool>(std::string, std::optional<std::chrono::milliseconds>);
template asio::awaitable<store_result<json>> device::get<json>(std::string, std::optional<std::chrono::milliseconds>);

asio::awaitable<std::error_code> device::set_metric(std::string name, double value, json dimensions,
                                                    std::optional<std::uint32_t> elapsed, client::wait how) {
    if (!client_ || id_.empty()) co_return make_error_code(errc::not_provisioned);
    if (!std::isfinite(value) || name.empty()) co_return make_error_code(client::errc::invalid_argument);
    if (dimensions.is_null()) dimensions = json::array({json{{"Device", id_}}});
    if (!dimensions.is_array() ||
        !std::all_of(dimensions.begin(), dimensions.end(), [](const json& d) { return d.is_object(); })) {
        co_return make_error_code(client::errc::invalid_argument);
    }
    json body{{"metric", std::move(name)}, {"value", json_number(value)}, {"dimensions", std::move(dimensions)}};
    if (elapsed) body["buffer"] = json{{"elapsed", *elapsed}};
    co_await pace();
    co_return co_await client_->publish("ioto/service/" + id_ + "/metric/set", body.dump(), client::qos::at_least_once,
                                        how);
}

asio::awaitable<store_result<double>> device::get_metric(std::string name, json dimensions, std::string statistic,
                                                         std::uint32_t period_s,
                                                         std::optional<std::chrono::milliseconds> timeout) {
    static const std::vector<std::string> statistics{"avg", "min", "max", "sum", "count", "current"};
    if (std::find(statistics.begin(), statistics.end(), statistic) == statistics.end() || period_s == 0 ||
        name.empty()) {
        store_result<double> r;
        r.ec = client::errc::invalid_argument;
        co_return r;
    }
    if (dimensions.is_null()) dimensions = json{{"Device", id_}};
    if (!dimensions.is_object()) {
        store_result<double> r;
        r.ec = client::errc::invalid_argument;
        co_return r;
    }
    json body{{"metric", std::move(name)}, {"dimensions", std::move(dimensions)}, {"period", period_s},
              {"statistic", std::move(statistic)}};
    co_return convert_store_value<double>(co_await read("metric/get", body.dump(), timeout));
}

}  // namespace tether::device
