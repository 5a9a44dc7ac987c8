#pragma once
// Staging a refused identity on the test cloud's broker (test_cloud.hpp): waiting until the
// broker refuses a certificate after a new CRL, and closing the connection a device holds so
// that it comes back through a handshake and meets the refusal.

#include <asio/awaitable.hpp>
#include <asio/this_coro.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "coro_test.hpp"
#include "test_cloud.hpp"
#include "tether/client/client.hpp"
#include "tether/device/device.hpp"

namespace tether::device::test {

// Device options for the refusal tests: quick provisioning retries, reconnect.max_delay (the
// pacing of refusal-driven re-provisioning) as given, each provisioning round's report
// recorded into `reports`.
inline device_options paced(std::chrono::milliseconds max_delay, std::vector<provision_report>& reports) {
    using namespace std::chrono_literals;
    device_options options;
    options.retry_initial = 20ms;
    options.retry_max = 200ms;
    options.reconnect.initial_delay = 10ms;
    options.reconnect.max_delay = max_delay;
    options.on_provision = [&reports](const provision_report& r) { reports.push_back(r); };
    return options;
}

// Connects with the certificate and key in `cert` and `key` under another client id until
// the broker refuses it (it handles the SIGHUP in its own loop), at most `attempts` times.
// Returns the refusal, or no error if every attempt was let in.
inline asio::awaitable<std::error_code> refused(test_cloud& cloud, const std::filesystem::path& cert,
                                                const std::filesystem::path& key, int attempts = 200) {
    std::error_code ec;
    for (int i = 0; i < attempts && !ec; ++i) {
        auto o = cloud.service_options();
        o.client_id = "probe";
        o.tls.cert_file = cert.string();
        o.tls.key_file = key.string();
        client::client probe(co_await asio::this_coro::executor, o);
        ec = co_await probe.connect();
        if (!ec) {
            (void)co_await probe.disconnect();
            co_await tether::test::sleep_for(std::chrono::milliseconds(50));
        }
    }
    co_return ec;
}

// Closes the connection the device holds: the cloud's identity takes its client id
// [MQTT-3.1.4-2] and leaves (as tether-cloud revoke does).
inline asio::awaitable<std::error_code> take_over(test_cloud& cloud, const std::string& id) {
    auto o = cloud.service_options();
    o.client_id = id;
    client::client taker(co_await asio::this_coro::executor, o);
    if (auto ec = co_await taker.connect()) co_return ec;
    co_return co_await taker.disconnect();
}

}  // namespace tether::device::test
