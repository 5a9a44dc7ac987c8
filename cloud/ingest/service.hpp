#pragma once
// The ingest on the wire: a tether client connected to the broker as the cloud service,
// subscribed (QoS 1) to every device → cloud topic and the provisioning requests, each
// message handed to a `handler` inside the client's message callback. The client sends
// the PUBACK after the callback returns, and the handler commits before it returns: a
// message is acknowledged only once what it wrote is in the database (DESIGN.md, ingest).
//
//     ingest::handler h(db, registry, provisioning, schema, log);
//     ingest::service s(io.get_executor(), h, mqtt_options, log);
//     if (auto ec = co_await s.start()) { ... }
//     ...
//     co_await s.stop();
//
// Known limit: when the database fails, the message is acknowledged anyway (the client
// cannot withhold a PUBACK); it is counted and logged as storage_failed. Give the service
// clean_session = false so that the broker keeps QoS 1 messages while it is away.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <system_error>

#include "ingest/handler.hpp"
#include "tether/client/client.hpp"

namespace tether::cloud::ingest {

class service {
public:
    // `h` must outlive the service; `log` as handler's (also told when a reply cannot be sent).
    service(asio::any_io_executor executor, handler& h, client::options mqtt, handler::log_function log = {});

    // Connects and subscribes, waiting for the SUBACK. Errors: those of client::connect()
    // and client::subscribe() (subscription_refused when the broker's ACL does not let
    // this identity read the service topics).
    asio::awaitable<std::error_code> start();

    // Disconnects gracefully: the replies still queued are sent first (at most `limit`).
    // Errors: those of client::disconnect().
    asio::awaitable<std::error_code> stop(std::chrono::milliseconds limit = std::chrono::seconds(5));

    [[nodiscard]] client::client& mqtt() noexcept { return client_; }
    [[nodiscard]] std::uint64_t replies_failed() const noexcept { return replies_failed_; }

private:
    void on_message(const client::message& m);

    handler& handler_;
    client::client client_;
    handler::log_function log_;
    std::uint64_t replies_failed_ = 0;
};

}  // namespace tether::cloud::ingest
