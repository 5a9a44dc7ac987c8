#include "engine.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>
#include <random>

#include "use_tuple.hpp"

#include "backoff.hpp"
#include "filter_cover.hpp"
#include "tether/core/encode.hpp"
#include "tether/core/topic.hpp"

namespace tether::client::detail {

namespace {

// Received QoS 2 ids awaiting PUBREL: a short list while few are, grown before it fills,
// up to a bitmap of every id (8 KiB) — the server decides how many there are, and a
// table that fills would cut the link and get the same backlog again, for ever.
constexpr std::size_t inbound_qos2_initial = 16;
constexpr std::size_t inbound_qos2_largest_list = 512;
constexpr std::size_t extra_slots = 16;  // SUBSCRIBE and UNSUBSCRIBE beside the window

core::session_config session_config(const options& o) {
    // Half the keep-alive by default: PINGREQ goes after a keep-alive of silence, so a dead
    // link is found within 1.5 keep-alives. With keep-alive off, explicit pings get 10 s.
    auto response = o.response_timeout;
    if (response.count() == 0) {
        response = o.keep_alive_s != 0 ? std::chrono::milliseconds(std::chrono::seconds(o.keep_alive_s)) / 2
                                       : std::chrono::milliseconds(10'000);
    }
    // The largest packet: a payload of max_message_size with the largest topic and header.
    const std::size_t limit = std::min<std::size_t>(o.max_message_size + 65'542, core::max_remaining_length + 5);
    return {.window = o.window,
            .response_timeout_ms = static_cast<core::millis>(response.count()),
            // One limit for TCP + TLS + CONNACK, as documented: the engine's connect deadline,
            // which ends the attempt with errc::timeout. The core's own CONNACK timer is only
            // a backstop a second later, so that the two never race.
            .connack_timeout_ms = static_cast<core::millis>(std::max<std::int64_t>(o.connect_timeout.count(), 1) + 1'000),
            .max_packet_size = static_cast<std::uint32_t>(limit)};
}

std::error_code connack_error(core::connack_code code) {
    return make_error_code(static_cast<errc>(static_cast<int>(code)));
}

// Waits for `sig`, or for `limit`; errc::timeout on the latter.
asio::awaitable<std::error_code> wait_for(signal& sig, std::chrono::steady_clock::duration limit) {
    const auto result = co_await sig.wait_until(std::chrono::steady_clock::now() + limit);
    co_return result ? *result : make_error_code(errc::timeout);
}

// Runs an asynchronous handler on its own copy of the message.
asio::awaitable<void> run_async_handler(async_message_handler handler, std::string topic,
                                        std::vector<std::uint8_t> payload, core::qos q, bool retain, bool dup) {
    payload.push_back(0);  // the NUL after the payload
    const message m{.topic = topic, .payload = {payload.data(), payload.size() - 1}, .qos = q, .retain = retain, .dup = dup};
    co_await handler(m);
}

}  // namespace

engine::engine(asio::any_io_executor ex, options opts)
    : ex_(std::move(ex)),
      opts_(std::move(opts)),
      epoch_(std::chrono::steady_clock::now()),
      random_(std::random_device{}() * 0x1'0000'0001ull),
      out_slots_(std::size_t{opts_.window} + extra_slots),
      inbound_qos2_(inbound_qos2_initial),
      rx_(initial_rx + 1),
      session_(out_slots_, inbound_qos2_, std::span(rx_).first(initial_rx), session_config(opts_)),
      ticker_(ex_),
      pause_(ex_),
      flights_(0) {}  // grows with use, up to the window

core::millis engine::now() const {
    return static_cast<core::millis>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - epoch_).count());
}

void engine::emit(connection_state s, std::error_code reason, bool session_present, unsigned attempt,
                  std::chrono::milliseconds retry_in) {
    if (on_event_) on_event_(connection_event{s, reason, session_present, attempt, retry_in, current_endpoint()});
}

// ---------------------------------------------------------------- connection

asio::awaitable<std::error_code> engine::connect() {
    // Again after disconnect() is fine, once the previous run has wound down.
    if (running_ || (state_ != state::idle && state_ != state::stopped)) {
        co_return make_error_code(errc::already_connected);
    }
    if (opts_.client_id.empty() && !opts_.clean_session) co_return make_error_code(errc::invalid_argument);
    if (opts_.tls.enabled && !tls_) {
        std::error_code ec;
        tls_ = make_tls_context(opts_.tls, ec);
        if (ec) co_return ec;
    }
    stopping_ = false;
    ever_connected_ = false;
    endpoint_index_ = 0;
    running_ = true;
    state_ = state::connecting;
    first_connack_ = std::make_shared<signal>(ex_);
    auto first = first_connack_;
    asio::co_spawn(ex_, run(shared_from_this()), asio::detached);
    co_return co_await first->wait();
}

asio::awaitable<void> engine::run(std::shared_ptr<engine> self) {
    unsigned failures = 0;
    while (state_ != state::stopped) {
        const std::error_code ec = co_await attempt();
        if (state_ == state::stopped) break;
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
        pause_.expires_after(delay);
        co_await pause_.async_wait(use_tuple);
        if (state_ == state::stopped) break;
    }
    running_ = false;
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


void engine::grow_inbound_qos2() {
    const std::size_t size = inbound_qos2_.size() * 2 <= inbound_qos2_largest_list
                                 ? inbound_qos2_.size() * 2
                                 : core::session::inbound_qos2_bitmap_size;
    std::vector<std::uint16_t> larger(size);
    if (session_.rebind_inbound_qos2(larger)) inbound_qos2_ = std::move(larger);
}

void engine::process_events() {
    for (;;) {
        // Room for one more QoS 2 message before the next packet is read.
        if (session_.inbound_qos2_count() == session_.inbound_qos2_capacity()) grow_inbound_qos2();
        const core::event e = session_.poll(now());
        if (e.type == core::event_type::none) break;
        if (!e.reply.empty() && e.type != core::event_type::message) append(e.reply);
        switch (e.type) {
        case core::event_type::connack:
            on_connack(e);
            break;
        case core::event_type::message: {
            // The PUBACK or PUBREC goes after the handlers have run: the application has
            // the message before the server may forget it. Copied first: a handler may
            // use the session.
            std::array<std::uint8_t, 4> reply{};
            const std::size_t n = std::min(e.reply.size(), reply.size());
            std::copy_n(e.reply.begin(), n, reply.begin());
            dispatch(e);
            if (n != 0) append(std::span(reply).first(n));
            break;
        }
        case core::event_type::puback:
        case core::event_type::pubcomp:
        case core::event_type::unsuback:
            if (flight* f = flights_.find(e.packet_id)) {
                // Delivered, but not as asked: the waiter hears it (the message went out at
                // least once; publishing it again would only duplicate it).
                if (f->acked) f->acked->set(e.err != core::error::none ? make_error_code(e.err) : std::error_code{});
                flights_.erase(e.packet_id);
            }
            break;
        case core::event_type::suback:
            if (flight* f = flights_.find(e.packet_id)) {
                on_suback(f->filters, e.return_codes);
                flights_.erase(e.packet_id);
            }
            break;
        case core::event_type::pingresp:
            for (auto& p : ping_waiters_) p->set();
            ping_waiters_.clear();
            break;
        case core::event_type::resend_publish:
        case core::event_type::resend_subscribe:
        case core::event_type::resend_unsubscribe:
            if (flight* found = flights_.find(e.packet_id)) {
                flight& f = *found;
                if (f.is_publish) core::mark_dup(f.bytes);  // [MQTT-3.3.1-1]
                append(f.bytes);
                if (f.sent && !f.sent->done()) watch_sent(f.sent, e.packet_id);
            }
            break;
        case core::event_type::error:
            fail_connection(e.err == core::error::connection_refused ? link_error_ : make_error_code(e.err));
            return;
        default:  // send, resend_pubrel: the reply was all
            break;
        }
    }
    drain_queue();
    check_drained();
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
    emit(connection_state::connected, {}, e.connack.session_present);
    // Subscribe again on every connection, also when the server says it kept our session:
    // a broker that restarted from an older save says so too, without the subscriptions
    // made since (mosquitto_sub does the same). Retained messages come again with it.
    subscriptions_.connection_started();
    send_wanted_subscriptions();
    send_pending_unsubscribes();
    arm_ticker();  // from the connect deadline to the keep-alive's
}

void engine::dispatch(const core::event& e) {
    const core::publish_packet& p = e.message;
    // Write a NUL after the payload for the handlers, and put back the byte it covers
    // (the start of the next packet, or the spare byte at the end of rx_).
    auto* end = const_cast<std::uint8_t*>(p.payload.data() + p.payload.size());
    const std::uint8_t saved = *end;
    *end = 0;
    const message m{.topic = p.topic, .payload = p.payload, .qos = p.qos, .retain = p.retain, .dup = p.dup};
    ++stats_.messages_received;
    // Index by index: a handler may subscribe or unsubscribe, which changes the table.
    std::uint64_t delivered_group = 0;  // one subscribe() call's filters are side by side
    for (std::size_t i = 0; i < subscriptions_.locals().size(); ++i) {
        const local_subscription& l = subscriptions_.locals()[i];
        if (l.group == delivered_group || !core::topic_matches(l.filter, p.topic)) continue;
        delivered_group = l.group;
        // Held by pointer, for the same reason.
        const auto handler = l.handler;
        const auto async_handler = l.async_handler;
        if (handler && *handler) (*handler)(m);
        if (async_handler && *async_handler) {
            asio::co_spawn(ex_,
                           run_async_handler(*async_handler, std::string(p.topic),
                                             std::vector<std::uint8_t>(p.payload.begin(), p.payload.end()), p.qos,
                                             p.retain, p.dup),
                           asio::detached);
        }
    }
    *end = saved;
}

// ---------------------------------------------------------------- publish

bool engine::can_send_publish(core::qos q) const {
    if (state_ != state::connected || link_failed_) return false;
    if (q == core::qos::at_most_once) return out_.size() < write_buffer_limit;
    return session_.publishes_in_flight() < opts_.window;
}

std::error_code engine::send_publish(std::string_view topic, std::span<const std::uint8_t> payload, core::qos q,
                                     bool retain, std::shared_ptr<signal> acked, std::shared_ptr<signal> sent) {
    // The encoder checks topic and QoS [MQTT-3.3.2-2, 4.7.3]; nothing is kept if it refuses.
    const core::publish_packet packet{.topic = topic, .payload = payload, .qos = q, .retain = retain};
    const std::size_t size = core::publish_size(packet);
    if (q == core::qos::at_most_once) {
        // Encoded straight into the write buffer: no copy, no allocation in steady state.
        const std::size_t at = out_.size();
        out_.resize(at + size);
        const auto r = session_.publish(packet, std::span(out_).subspan(at), now());
        if (r.err != core::error::none) {
            out_.resize(at);
            return make_error_code(errc::invalid_argument);
        }
        appended_ += r.size;
        ++stats_.messages_published;
        schedule_write();
        watch_sent(sent ? sent : acked, 0);  // QoS 0: `ack` means `sent`
        return {};
    }
    // Encoded into a pooled buffer that keeps its capacity: no allocation per message once
    // the pool has seen messages this large.
    const std::uint32_t entry = flights_.acquire();
    flight& f = flights_.at(entry);
    f.is_publish = true;
    f.bytes.resize(size);
    const auto r = session_.publish(packet, f.bytes, now());
    if (r.err != core::error::none) {
        flights_.release(entry);
        return make_error_code(errc::invalid_argument);
    }
    append(f.bytes);
    ++stats_.messages_published;
    f.acked = std::move(acked);
    f.sent = std::move(sent);
    watch_sent(f.sent, r.packet_id);
    flights_.bind(entry, r.packet_id);
    return {};
}

void engine::drain_queue() {
    while (!queue_.empty() && can_send_publish(queue_.front().qos)) {
        queued_message& m = queue_.front();
        // Checked before it was queued, so the encoder accepts it.
        (void)send_publish(m.topic, m.payload, m.qos, m.retain, std::move(m.acked), std::move(m.sent));
        queue_.pop();
    }
    if (queue_.empty() && queue_empty_) std::exchange(queue_empty_, nullptr)->set();
}

asio::awaitable<std::error_code> engine::drain() {
    if (queue_.empty()) co_return std::error_code{};
    if (state_ == state::idle || state_ == state::stopped) co_return make_error_code(errc::not_connected);
    if (!queue_empty_) queue_empty_ = std::make_shared<signal>(ex_);
    auto waiter = queue_empty_;
    co_return co_await waiter->wait();
}

std::error_code engine::publish_now(std::string_view topic, std::span<const std::uint8_t> payload, core::qos q,
                                    bool retain, std::shared_ptr<signal> acked, std::shared_ptr<signal> sent) {
    if (payload.size() > opts_.max_message_size) return make_error_code(errc::message_too_large);
    if (state_ == state::idle || state_ == state::stopped || stopping_) return make_error_code(errc::not_connected);
    if (queue_.empty() && can_send_publish(q)) {
        return send_publish(topic, payload, q, retain, std::move(acked), std::move(sent));
    }
    // Queued: check now what the encoder would check later.
    if (core::validate_topic_name(topic) != core::error::none || q > core::qos::exactly_once) {
        return make_error_code(errc::invalid_argument);
    }
    if (queue_.size() >= opts_.offline_queue_limit) {
        if (opts_.overflow == overflow_policy::reject_new || queue_.empty()) return make_error_code(errc::queue_full);
        queued_message& oldest = queue_.front();
        const auto dropped = make_error_code(errc::message_dropped);
        if (oldest.acked) oldest.acked->set(dropped);
        if (oldest.sent) oldest.sent->set(dropped);
        queue_.pop();
    }
    queue_.push(topic, payload, q, retain, std::move(acked), std::move(sent));
    return {};
}

asio::awaitable<std::error_code> engine::publish(std::string_view topic, std::span<const std::uint8_t> payload,
                                                 core::qos q, wait how, bool retain) {
    std::shared_ptr<signal> waiter;
    if (how != wait::none) waiter = take_signal();
    if (const auto ec = publish_now(topic, payload, q, retain, how == wait::ack ? waiter : nullptr,
                                    how == wait::sent ? waiter : nullptr)) {
        give_back(std::move(waiter));
        co_return ec;
    }
    if (!waiter) co_return std::error_code{};
    const std::error_code ec = co_await waiter->wait();
    give_back(std::move(waiter));
    co_return ec;
}

std::shared_ptr<signal> engine::take_signal() {
    if (spare_signals_.empty()) return std::make_shared<signal>(ex_);
    auto s = std::move(spare_signals_.back());
    spare_signals_.pop_back();
    return s;
}

void engine::give_back(std::shared_ptr<signal> s) {
    // Only one nobody else holds (a QoS 1/2 flight keeps its `sent` signal until the
    // acknowledgement): it is then reset and reused by the next publish.
    if (!s || s.use_count() != 1 || spare_signals_.size() >= max_spare_signals) return;
    s->reset();
    spare_signals_.push_back(std::move(s));
}

// ---------------------------------------------------------------- ping, request, disconnect

asio::awaitable<std::error_code> engine::ping() {
    if (state_ != state::connected || link_failed_) co_return make_error_code(errc::not_connected);
    std::array<std::uint8_t, 2> packet{};
    if (session_.ping(packet, now()).err != core::error::none) co_return make_error_code(errc::not_connected);
    append(packet);
    arm_ticker();  // the response deadline is sooner than the keep-alive
    auto waiter = std::make_shared<signal>(ex_);
    ping_waiters_.push_back(waiter);
    co_return co_await waiter->wait();
}

asio::awaitable<request_result> engine::request(std::string_view topic, std::string_view body,
                                                std::string_view reply_topic, std::chrono::milliseconds timeout,
                                                core::qos q) {
    const std::string reply_filter = std::string(reply_topic) + "/+";
    if (!reply_filters_.contains(reply_filter)) {
        std::weak_ptr<engine> weak = weak_from_this();
        subscription s{reply_filter, q, [weak](const message& m) {
                           auto self = weak.lock();
                           if (!self) return;
                           if (auto it = self->requests_.find(std::string(m.topic)); it != self->requests_.end()) {
                               it->second->payload = std::string(m.text());
                               it->second->done.set();
                           }
                       }};
        std::vector<subscription> subs;
        subs.push_back(std::move(s));
        const auto sub = co_await subscribe(std::move(subs), wait::ack);
        if (sub.ec) co_return request_result{sub.ec, {}};
        reply_filters_.insert(reply_filter);
    }
    const std::string seq = std::to_string(++next_request_);
    const std::string reply_name = std::string(reply_topic) + "/" + seq;
    auto slot = std::make_shared<reply_slot>(ex_);
    requests_[reply_name] = slot;
    const std::string request_topic = std::string(topic) + "/" + seq;
    const auto ec = co_await publish(request_topic, {reinterpret_cast<const std::uint8_t*>(body.data()), body.size()},
                                     q, wait::none, false);
    request_result result;
    result.ec = ec ? ec : co_await wait_for(slot->done, timeout);
    if (!result.ec) result.payload = std::move(slot->payload);
    requests_.erase(reply_name);
    co_return result;
}

void engine::check_drained() {
    if (drained_ && queue_.empty() && session_.publishes_in_flight() == 0) drained_->set();
}

asio::awaitable<std::error_code> engine::disconnect(std::chrono::milliseconds limit) {
    if (state_ == state::idle || state_ == state::stopped) co_return make_error_code(errc::not_connected);
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

void engine::fail_all(std::error_code ec) {
    queue_.for_each([&](queued_message& m) {
        if (m.acked) m.acked->set(ec);
        if (m.sent) m.sent->set(ec);
    });
    queue_.clear();
    // Reported failed, so never sent again, not even by a later connect(): the application
    // may publish them again itself.
    std::vector<std::uint16_t> ids;
    flights_.for_each([&](std::uint16_t id, flight& f) {
        if (f.acked) f.acked->set(ec);
        if (f.sent) f.sent->set(ec);
        ids.push_back(id);
    });
    for (const std::uint16_t id : ids) flights_.erase(id);
    session_.abandon_outbound();
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
}

}  // namespace tether::client::detail
