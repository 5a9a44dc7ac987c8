#pragma once
// The ingest on the wire: a tether client connected to the broker as the cloud service,
// subscribed (QoS 1) to every device → cloud topic and the provisioning requests, each
// message handed to a `handler` inside the client's message callback.
//
// Group commit: the service takes over every message's acknowledgement (defer_ack). A
// write joins the handler's pending batch; the batch commits in one transaction once it
// holds handler::batch_limit() messages, or before a read or a provisioning request, or:
//   - at low load, when the io_context has run what was already queued (a posted flush: no
//     timer, so a lone write waits for no latency floor);
//   - under load (a write arrives within `commit_spacing` of the previous commit), at that
//     commit plus `commit_spacing`: a timer, so the loop sleeps in the reactor meanwhile
//     instead of posting rounds, and the writes of that time share one commit (its fsync,
//     its locks, the pages it writes). A write thus waits at most commit_spacing longer. Then its messages are acknowledged, in arrival order. A message is
// acknowledged only once what it wrote is in the database (DESIGN.md, ingest): when the
// commit fails, their acknowledgements are rejected, the client reconnects and the broker
// delivers them again (this needs clean_session = false). Other messages are acknowledged
// as soon as they are handled, except a write that failed before it could be queued (the
// registry's storage failing): rejected too.
//
//     ingest::handler h(db, registry, provisioning, schema, log);
//     ingest::service s(io.get_executor(), h, mqtt_options, log);
//     if (auto ec = co_await s.start()) { ... }
//     ...
//     co_await s.stop();
//
// Give the service clean_session = false so that the broker keeps QoS 1 messages while it
// is away or while it rejects them, and max_pending_acks >= the handler's batch_limit().

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <system_error>

#include "ingest/handler.hpp"
#include "tether/client/client.hpp"

namespace tether::cloud::ingest {

class service {
public:
    // `h` must outlive the service; `log` as handler's (also told when a reply cannot be sent).
    // A non-empty `share_group` makes this one of several workers: the device topics are
    // subscribed as `$share/<share_group>/...`, so the broker hands each message to one
    // worker of the group (MQTT 5's shared subscriptions, which mosquitto 2 also gives MQTT
    // 3.1.1 clients). The broker's log (presence) is read by every worker: its updates are
    // idempotent. Empty: this service alone receives every message.
    service(asio::any_io_executor executor, handler& h, client::options mqtt, handler::log_function log = {},
            std::string share_group = {});
    // Under load, commits come at most once per this much (see above). Zero: never wait for
    // more writes beyond the posted rounds (each quiet moment commits).
    static constexpr std::chrono::milliseconds default_commit_spacing{5};
    void set_commit_spacing(std::chrono::milliseconds spacing) noexcept { commit_spacing_ = spacing; }

    // Connects and subscribes, waiting for the SUBACK. Errors: those of client::connect()
    // and client::subscribe() (subscription_refused when the broker's ACL does not let
    // this identity read the service topics).
    asio::awaitable<std::error_code> start();

    // Commits the pending batch (acknowledging or rejecting its messages), then disconnects
    // gracefully: the replies still queued are sent first (at most `limit`).
    // Errors: those of client::disconnect().
    asio::awaitable<std::error_code> stop(std::chrono::milliseconds limit = std::chrono::seconds(5));

    [[nodiscard]] client::client& mqtt() noexcept { return client_; }
    [[nodiscard]] std::uint64_t replies_failed() const noexcept { return replies_failed_; }

private:
    void on_message(const client::message& m);
    // Posts one flush of the handler's batch, unless one is already posted.
    void schedule_flush();
    void post_flush(std::size_t pending_then, int quiet_rounds);
    // Commits the batch now (a failure is told to each message's `done` and logged).
    void flush_now();

    asio::any_io_executor executor_;
    handler& handler_;
    client::client client_;
    handler::log_function log_;
    std::string share_group_;
    std::uint64_t replies_failed_ = 0;
    bool flush_posted_ = false;
    std::chrono::milliseconds commit_spacing_ = default_commit_spacing;
    std::chrono::steady_clock::time_point last_commit_{};
    asio::steady_timer spacing_timer_;
    // A posted flush runs only while this lives (the service may go before its io_context).
    std::shared_ptr<service*> self_ = std::make_shared<service*>(this);
};

}  // namespace tether::cloud::ingest
