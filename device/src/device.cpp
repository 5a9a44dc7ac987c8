// The device object: the owner's handle on its agent (agent.hpp), and the Store and metrics
// of PROTOCOL.md §1 over the client.

#include "tether/device/device.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "agent.hpp"

namespace tether::device {

using nlohmann::json;

device::device(asio::any_io_executor executor, std::filesystem::path dir, device_options options)
    : agent_(std::make_shared<detail::agent>(std::move(executor), std::move(dir), std::move(options))) {}

// The agent lives on while a task of its own runs (agent.hpp); it stops what it can now.
device::~device() { agent_->detach(); }

const std::string& device::id() const noexcept { return agent_->id(); }
const configuration& device::config() const noexcept { return agent_->config(); }
std::chrono::milliseconds device::throttle_interval() const noexcept { return agent_->throttle_interval(); }
bool device::closed_by_cloud() const noexcept { return agent_->closed_by_cloud(); }
unsigned device::provisioned_count() const noexcept { return agent_->provisioned_count(); }

client::client& device::mqtt() {
    client::client* c = agent_->mqtt();
    if (c == nullptr) throw std::logic_error("tether::device::device::mqtt() before start()");
    return *c;
}

asio::awaitable<std::error_code> device::start() {
    auto a = agent_;
    co_return co_await a->start(a);
}

asio::awaitable<void> device::stop(std::chrono::milliseconds limit) {
    auto a = agent_;
    co_await a->stop(a, limit);
}

asio::awaitable<std::error_code> device::set(std::string key, store_value value, client::wait how) {
    auto a = agent_;
    if (a->mqtt() == nullptr || a->id().empty()) co_return make_error_code(errc::not_provisioned);
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
    co_await a->pace(a);
    if (a->mqtt() == nullptr) co_return make_error_code(errc::stopped);
    co_return co_await a->mqtt()->publish("ioto/service/" + a->id() + "/store/set", body.dump(),
                                          client::qos::at_least_once, how);
}

template <class T>
asio::awaitable<store_result<T>> device::get(std::string key, std::optional<std::chrono::milliseconds> timeout) {
    const std::string body = json{{"key", std::move(key)}}.dump();
    auto a = agent_;
    co_return convert_store_value<T>(co_await a->read(a, "store/get", body, timeout));
}

template asio::awaitable<store_result<std::string>> device::get<std::string>(std::string, std::optional<std::chrono::milliseconds>);
template asio::awaitable<store_result<double>> device::get<double>(std::string, std::optional<std::chrono::milliseconds>);
template asio::awaitable<store_result<std::int64_t>> device::get<std::int64_t>(std::string, std::optional<std::chrono::milliseconds>);
template asio::awaitable<store_result<bool>> device::get<bool>(std::string, std::optional<std::chrono::milliseconds>);
template asio::awaitable<store_result<json>> device::get<json>(std::string, std::optional<std::chrono::milliseconds>);

asio::awaitable<std::error_code> device::set_metric(std::string name, double value, json dimensions,
                                                    std::optional<std::uint32_t> elapsed, client::wait how) {
    auto a = agent_;
    if (a->mqtt() == nullptr || a->id().empty()) co_return make_error_code(errc::not_provisioned);
    if (!std::isfinite(value) || name.empty()) co_return make_error_code(client::errc::invalid_argument);
    if (dimensions.is_null()) dimensions = json::array({json{{"Device", a->id()}}});
    if (!dimensions.is_array() ||
        !std::all_of(dimensions.begin(), dimensions.end(), [](const json& d) { return d.is_object(); })) {
        co_return make_error_code(client::errc::invalid_argument);
    }
    json body{{"metric", std::move(name)}, {"value", json_number(value)}, {"dimensions", std::move(dimensions)}};
    if (elapsed) body["buffer"] = json{{"elapsed", *elapsed}};
    co_await a->pace(a);
    if (a->mqtt() == nullptr) co_return make_error_code(errc::stopped);
    co_return co_await a->mqtt()->publish("ioto/service/" + a->id() + "/metric/set", body.dump(),
                                          client::qos::at_least_once, how);
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
    auto a = agent_;
    if (dimensions.is_null()) dimensions = json{{"Device", a->id()}};
    if (!dimensions.is_object()) {
        store_result<double> r;
        r.ec = client::errc::invalid_argument;
        co_return r;
    }
    json body{{"metric", std::move(name)}, {"dimensions", std::move(dimensions)}, {"period", period_s},
              {"statistic", std::move(statistic)}};
    co_return convert_store_value<double>(co_await a->read(a, "metric/get", body.dump(), timeout));
}

}  // namespace tether::device
