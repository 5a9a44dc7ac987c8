// The connection flow: connect(), the run loop that reconnects with backoff and moves
// through the endpoints, one attempt (TCP, TLS, CONNECT), and what CONNACK sets going.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "backoff.hpp"
#include "engine.hpp"
#include "use_tuple.hpp"

namespace tether::client::detail {

namespace {

std::error_code connack_error(core::connack_code code) {
    return make_error_code(static_cast<errc>(static_cast<int>(code)));
}

}  // namespace

asio::awaitable<std::error_code> engine::connect() {
    // One connect() waiting for the previous run to end starts the next; any other meanwhile
    // would start a second run beside it.
    if (connect_waiting_) co_return make_error_code(errc::already_connected);
    if (running_) {
        // Again after disconnect() (or any stop) is fine: the run that ended still has its
        // link's last handlers to see out, and the next run must not start under them.
        const bool ending = state_ == state::idle || state_ == state::stopped || disconnect_called_;
        if (!ending) co_return make_error_code(errc::already_connected);
        if (const auto ec = co_await wait_for_run_end()) co_return ec;
    }
    if (state_ != state::idle && state_ != state::stopped) co_return make_error_code(errc::already_connected);
    if (opts_.client_id.empty() && !opts_.clean_session) co_return make_error_code(errc::invalid_argument);
    if (opts_.tls.enabled && !tls_) {
        std::error_code ec;
        tls_ = make_tls_context(opts_.tls, ec);
        if (ec) co_return ec;
    }
    // The durable outbox: what an earlier run (or process) left unacknowledged goes first.
    if (auto ec = open_journal()) co_return ec;
    stopping_ = false;
    disconnect_called_ = false;
    ever_connected_ = false;
    endpoint_index_ = 0;
    running_ = true;
    state_ = state::connecting;
    first_connack_ = std::make_shared<signal>(ex_);
    auto first = first_connack_;
    asio::co_spawn(ex_, run(shared_from_this()), asio::detached);
    co_return co_await first->wait();
}

asio::awaitable<std::error_code> engine::wait_for_run_end() {
    // No timer of its own: the run ends within the stop's limits (disconnect()'s, then the
    // link's handlers, which a closed socket completes at once; connect_timeout if it was
    // still opening the link).
    const std::uint64_t ticket = ++connect_waits_;
    connect_waiting_ = true;
    if (!run_ended_) run_ended_ = std::make_shared<signal>(ex_);
    const auto ended = run_ended_;  // this frame's own: run() lets go of it when it ends
    const std::error_code waited = co_await ended->wait();
    // Called off meanwhile (disconnect(), the client's end): connect_waiting_ is no longer
    // ours to clear, another connect() may wait now.
    if (ticket != connect_waits_) co_return make_error_code(errc::client_stopped);
    connect_waiting_ = false;
    if (waited) co_return waited;  // the awaiting coroutine's own cancellation
    if (running_) co_return make_error_code(errc::already_connected);  // cannot be: run() has returned
    co_return std::error_code{};
}

void engine::call_off_waiting_connect() {
    if (!connect_waiting_) return;
    connect_waiting_ = false;
    ++connect_waits_;
}

asio::awaitable<void> engine::run(std::shared_ptr<engine> self) {
    unsigned failures = 0;
    while (state_ != state::stopped) {
        const std::error_code ec = co_await attempt();
        if (state_ == state::stopped) break;
        after_link_ended(ec);
        if (!ever_connected_ && !is_permanent(ec) && endpoint_index_ < opts_.more_endpoints.size()) {
            ++endpoint_index_;  // connect() tries each broker of the list once
            continue;
        }
        if (!ever_connected_) {
            // The first connection failed on every broker: report it to connect() and try
            // no more.
            state_ = state::idle;
            if (first_connack_) first_connack_->set(ec);
            fail_all(ec);
            break;
        }
        if (got_connack_) {
            failures = 0;
            emit(connection_state::disconnected, ec);
            // The callback may have stopped the client (disconnect() completes at once on a
            // link already gone): reconnecting now would undo that stop.
            if (state_ == state::stopped) break;
        }
        state_ = state::reconnecting;
        if (is_permanent(ec) || !opts_.reconnect.enabled) {
            // Retrying cannot fix this: say so, and fail what waits.
            if (!got_connack_) emit(connection_state::disconnected, ec);
            state_ = state::stopped;
            fail_all(ec);
            break;
        }
        ++failures;
        // On to the next broker of the list (a cluster's members), round the list.
        endpoint_index_ = (endpoint_index_ + 1) % (1 + opts_.more_endpoints.size());
        const auto delay = backoff_delay(opts_.reconnect, failures, random_());
        emit(connection_state::reconnecting, ec, false, failures, delay);
        if (state_ == state::stopped) break;  // stopped by the callback: its cancel came before the backoff
        pause_.expires_after(delay);
        co_await pause_.async_wait(use_tuple);
        if (state_ == state::stopped) break;
    }
    running_ = false;
    if (run_ended_) std::exchange(run_ended_, nullptr)->set();  // a connect() waits to start the next
    (void)self;
}

asio::awaitable<std::error_code> engine::attempt() {
    link_ = std::make_unique<transport>(ex_);
    link_failed_ = false;
    link_error_ = {};
    got_connack_ = false;
    out_.clear();
    writing_.clear();
    appended_ = written_ = 0;
    pings_written_ = pings_answered_ = probe_barrier_ = probe_tail_ = 0;
    settling_probe_ = 0;
    connect_deadline_ = std::chrono::steady_clock::now() + opts_.connect_timeout;

    if (const auto ec = co_await open_link()) co_return ec;
    if (!send_connect()) {
        link_->close();
        link_failed_ = true;
        state_ = ever_connected_ ? state_ : state::idle;
        co_return make_error_code(errc::invalid_argument);
    }
    start_io();
    // The connection's I/O runs in completion handlers that refer to this engine; it is
    // over when the link has failed and the last of them has run.
    while (!link_failed_ || io_pending_ != 0) {
        pause_.expires_at(asio::steady_timer::time_point::max());
        co_await pause_.async_wait(use_tuple);
    }
    co_return link_error_;
}

// Its own coroutine, so that what it needs is not kept in attempt()'s frame for as long
// as the connection lasts.
asio::awaitable<std::error_code> engine::open_link() {
    // At the time limit the link is closed under open(), which then fails. A plain timer
    // rather than `open() || timer`: the awaitable operators instantiate tens of kilobytes
    // of code. The outcome is shared: the handler may run after this frame is gone.
    enum class outcome { pending, opened, timed_out };
    auto result = std::make_shared<outcome>(outcome::pending);
    asio::steady_timer limit(ex_, opts_.connect_timeout);
    limit.async_wait([this, result](std::error_code ec) {
        if (ec || *result != outcome::pending) return;
        *result = outcome::timed_out;
        link_->close();
    });
    std::error_code ec = co_await link_->open(current_endpoint(), opts_, tls_.get());
    limit.cancel();
    if (*result == outcome::timed_out) ec = make_error_code(errc::timeout);
    *result = outcome::opened;
    if (ec || state_ == state::stopped) {
        link_->close();
        link_failed_ = true;
        co_return ec ? ec : make_error_code(errc::client_stopped);
    }
    co_return std::error_code{};
}

endpoint engine::current_endpoint() const {
    if (endpoint_index_ == 0) return {opts_.host, opts_.port};
    return opts_.more_endpoints[endpoint_index_ - 1];
}

bool engine::send_connect() {
    // CONNECT goes first on the new link.
    const std::string_view will_payload = opts_.will ? std::string_view(opts_.will->payload) : std::string_view{};
    const core::will_message will{
        .topic = opts_.will ? std::string_view(opts_.will->topic) : std::string_view{},
        .payload = {reinterpret_cast<const std::uint8_t*>(will_payload.data()), will_payload.size()},
        .qos = opts_.will ? opts_.will->qos : core::qos::at_most_once,
        .retain = opts_.will && opts_.will->retain};
    std::optional<core::bytes> password;
    if (opts_.password) {
        password = core::bytes{reinterpret_cast<const std::uint8_t*>(opts_.password->data()), opts_.password->size()};
    }
    std::optional<std::string_view> user_name;
    if (opts_.user_name) user_name = *opts_.user_name;
    const core::connect_options connect{.client_id = opts_.client_id,
                                        .keep_alive_s = opts_.keep_alive_s,
                                        .clean_session = opts_.clean_session,
                                        .will = opts_.will ? &will : nullptr,
                                        .user_name = user_name,
                                        .password = password};
    std::vector<std::uint8_t> packet(core::connect_size(connect));
    const auto r = session_.connect(connect, packet, now());
    if (r.err != core::error::none) return false;
    append(packet);
    return true;
}

void engine::on_connack(const core::event& e) {
    if (e.connack.code != core::connack_code::accepted) {
        link_error_ = connack_error(e.connack.code);  // the error event that follows carries it
        return;
    }
    state_ = state::connected;
    ever_connected_ = true;
    got_connack_ = true;
    ++stats_.connections;
    if (first_connack_) std::exchange(first_connack_, nullptr)->set();  // connect() holds its own copy
    journal_connack(e.connack.session_present);
    emit(connection_state::connected, {}, e.connack.session_present);
    // Subscribe again on every connection, also when the server says it kept our session:
    // a broker that restarted from an older save says so too, without the subscriptions
    // made since (mosquitto_sub does the same). Retained messages come again with it.
    if (session_.publishes_in_flight() == 0) probe_.reset();  // nothing to probe with
    subscriptions_.connection_started();
    // New SUBSCRIBE and UNSUBSCRIBE packets go after the session's resends, which follow
    // CONNACK (process_events): an UNSUBSCRIBE made offline must come after the resent
    // SUBSCRIBE of the same filter, and an upgrade after the resent lower one, or the
    // server ends up in the older state.
    subscribe_after_resends_ = true;
    arm_ticker();  // from the connect deadline to the keep-alive's
}

}  // namespace tether::client::detail
