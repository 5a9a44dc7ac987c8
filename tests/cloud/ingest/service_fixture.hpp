#pragma once
// The setting of the tests that run the service through a real broker: a deployment made
// by `tether-cloud init` with its mosquitto started, a handler over the test's database
// (ingest_fixture.hpp) with `dev1` registered, and dev1's certificate; inside the test's
// coroutine, `running` is the service started and dev1 connected to the broker.
//
//     service_fixture fx(database_url());
//     run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
//         running r(io, fx);
//         CO_ASSERT(co_await r.start());
//         ... r.device.publish(...), fx.f.h->stats() ...
//         co_await r.stop();
//     });

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <string>
#include <system_error>

#include "deployment_fixture.hpp"
#include "ingest/service.hpp"
#include "ingest_fixture.hpp"
#include "tether/client/client.hpp"

namespace tether::cloud::ingest::test {

struct service_fixture {
    explicit service_fixture(const std::string& database_url) : f(database_url) {
        d.start_broker();
        register_device(*f.registry, "dev1");
        dev1 = d.issue("dev1");
    }

    // The cloud service's connection: its own certificate, no reconnecting.
    [[nodiscard]] client::options service_options() const {
        return provisioning::test::tls_client(d, "tether-cloud", provisioning::test::service_identity(d));
    }
    // A device's connection under its own certificate.
    [[nodiscard]] client::options device_options(const std::string& id, const provisioning::test::identity& cert) const {
        return provisioning::test::tls_client(d, id, cert);
    }

    provisioning::test::deployment d;
    handler_fixture f;
    provisioning::test::identity dev1;
};

// The service on `fx`'s handler and dev1's client, on the test's io_context.
struct running {
    running(asio::io_context& io, service_fixture& fx) : running(io, fx, fx.service_options()) {}
    running(asio::io_context& io, service_fixture& fx, client::options service_options)
        : s(io.get_executor(), *fx.f.h, std::move(service_options)),
          device(io.get_executor(), fx.device_options("dev1", fx.dev1)) {}

    // Starts the service (subscribed when this returns), then connects dev1; false when
    // either fails.
    asio::awaitable<bool> start() {
        // Each result into a local first: GCC 12 miscompiles a co_await inside a condition
        // or a co_return expression here (SIGILL).
        const std::error_code started = co_await s.start();
        if (started) co_return false;
        const std::error_code connected = co_await device.connect();
        co_return !connected;
    }
    // Disconnects dev1, then stops the service (which commits what it holds).
    asio::awaitable<void> stop() {
        (void)co_await device.disconnect();
        (void)co_await s.stop();
    }

    service s;
    client::client device;
};

}  // namespace tether::cloud::ingest::test
