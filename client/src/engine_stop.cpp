// Ending: disconnect() (flush, then DISCONNECT), stop(), and failing whatever still waits
// so that nothing reported failed is ever sent afterwards.

#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include "engine.hpp"
#include "wait_for.hpp"

namespace tether::client::detail {

void engine::check_drained() {
    if (drained_ && queue_.empty() && session_.publishes_in_flight() == 0) drained_->set();
}

asio::awaitable<std::error_code> engine::disconnect(std::chrono::milliseconds limit) {
    if (connect_waiting_) {
        // A connect() waits for the last run to end before it starts the next: a connection
        // under way, and this call ends it as it would end one connecting (client_stopped).
        // What the last run carried is its own stop's to settle, done or under way.
        call_off_waiting_connect();
        co_return std::error_code{};
    }
    if (state_ == state::idle || state_ == state::stopped) co_return make_error_code(errc::not_connected);
    if (disconnecting_) {
        // Another disconnect() is ending this connection: its flush and its DISCONNECT are
        // this call's too (two would each send, and the second's stop would cut the
        // first's DISCONNECT off). Bounded by that call's limit; its result is this one's.
        const auto other = disconnecting_;
        co_return co_await other->wait();
    }
    const auto done = std::make_shared<signal>(ex_);
    disconnecting_ = done;
    const std::error_code ec = co_await end_connection(limit);
    if (disconnecting_ == done) disconnecting_.reset();
    done->set(ec);
    co_return ec;
}

asio::awaitable<std::error_code> engine::end_connection(std::chrono::milliseconds limit) {
    disconnect_called_ = true;  // a connect() from now on waits for this run to end
    if (delivering_ != 0) {
        // Started from a message handler (co_spawn runs it at once): the PUBACK or PUBREC of
        // that message goes when the handlers return, and the DISCONNECT must follow it, or a
        // persistent session's server sends the message again on the next connection (for
        // QoS 2, a duplicate the application already took). Resumed after the handlers.
        co_await asio::post(ex_, asio::use_awaitable);
        if (state_ == state::idle || state_ == state::stopped) co_return make_error_code(errc::not_connected);
    }
    stopping_ = true;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    drained_ = std::make_shared<signal>(ex_);
    check_drained();
    std::error_code ec = co_await wait_for(*drained_, deadline - std::chrono::steady_clock::now());
    if (!ec && state_ == state::connected && !link_failed_) {
        std::array<std::uint8_t, 2> packet{};
        if (session_.disconnect(packet).err == core::error::none) {
            append(packet);
            auto sent = std::make_shared<signal>(ex_);
            watch_sent(sent, 0);
            ec = co_await wait_for(*sent, std::max(deadline - std::chrono::steady_clock::now(),
                                                    std::chrono::steady_clock::duration(std::chrono::milliseconds(100))));
        }
    }
    stop(make_error_code(errc::client_stopped));
    emit(connection_state::disconnected, ec);
    co_return ec;
}

void engine::stop(std::error_code why) {
    if (state_ == state::stopped) return;
    state_ = state::stopped;
    pause_.cancel();  // the backoff, if run() is in one
    fail_connection(why);
    fail_all(why);
    if (first_connack_) first_connack_->set(why);
}

void engine::close() {
    call_off_waiting_connect();
    stop(make_error_code(errc::client_stopped));
}

void engine::fail_all(std::error_code ec) {
    queue_.for_each([&](queued_message& m) {
        if (m.acked) m.acked->set(ec);
        if (m.sent) m.sent->set(ec);
    });
    queue_.clear();
    // Reported failed, so never sent again, not even by a later connect(): the application
    // may publish them again itself. Except QoS 2 messages past PUBREC: the server has
    // them, so they are reported delivered, and their PUBREL goes on each connection until
    // PUBCOMP [MQTT-4.4.0-1] (the session keeps them too). With persistence the journal keeps
    // them all (it is closed below, untouched), and the next connect() or process with its
    // directory sends them: what the durable outbox is for.
    std::vector<std::uint16_t> ids;
    flights_.for_each([&](std::uint16_t id, flight& f) {
        const std::error_code outcome = f.released ? std::error_code{} : ec;
        if (f.acked) f.acked->set(outcome);
        if (f.sent) f.sent->set(outcome);
        f.acked.reset();
        f.sent.reset();
        if (!f.released) ids.push_back(id);
    });
    for (const std::uint16_t id : ids) flights_.erase(id);
    session_.abandon_outbound();
    // Probing ends with the messages it was about: a probe chosen before the stop would
    // otherwise hold every later publish back on the next connect(), waiting for a probe
    // that is never sent (when only a PUBREL is left to resend).
    probe_.reset();
    settling_probe_ = 0;
    held_resends_.clear();
    subscriptions_.fail_waiters(ec);
    for (auto& u : pending_unsubscribes_) {
        if (u.acked) u.acked->set(ec);
    }
    pending_unsubscribes_.clear();
    fail_sent_waiters([](const sent_waiter&) { return true; }, ec);
    for (auto& p : ping_waiters_) p->set(ec);
    ping_waiters_.clear();
    for (auto& [name, slot] : requests_) slot->done.set(ec);
    if (queue_empty_) std::exchange(queue_empty_, nullptr)->set(ec);
    close_journal();
}

}  // namespace tether::client::detail
